import { checkedName, nameProblem, Naming, NameError } from "../lib/naming";
import { cidrsOverlap, parseCidr, subnetCidr } from "../lib/cidr";

describe("Naming", () => {
  const naming = new Naming("fargate", "prod");

  test("builds <project>-<env>-<purpose> names", () => {
    expect(naming.name("alb", "alb")).toBe("fargate-prod-alb");
    expect(naming.logGroup("ecs/api")).toBe("/fargate/prod/ecs/api");
    expect(naming.kmsAlias("data")).toBe("alias/fargate-prod-data");
    expect(naming.parameterPath).toBe("/fargate/prod/");
  });

  test("lowercases S3 bucket and DB instance names", () => {
    expect(new Naming("Fargate", "prod").name("s3Bucket", "alb-logs")).toBe("fargate-prod-alb-logs");
  });

  test.each([
    ["alb", 32],
    ["targetGroup", 32],
    ["iamRole", 64],
    ["s3Bucket", 63],
  ] as const)("throws, never truncates, when a %s name exceeds %i characters", (kind, limit) => {
    const purpose = "x".repeat(limit - naming.stem.length); // one over the limit with the hyphen
    expect(() => naming.name(kind, purpose)).toThrow(NameError);
    expect(() => naming.name(kind, purpose)).toThrow(`naming: ${kind} name "fargate-prod-${purpose}" is ${limit + 1} characters; the AWS limit is ${limit}; shorten the project, environment or purpose`);
    expect(naming.name(kind, purpose.slice(1))).toHaveLength(limit);
  });

  test("enforces the 6-character name_prefix limit", () => {
    expect(nameProblem("namePrefix", "fargat")).toBeUndefined();
    expect(nameProblem("namePrefix", "fargate")).toBe('namePrefix name "fargate" is 7 characters; the AWS limit is 6');
  });

  test("rejects characters a kind does not allow", () => {
    expect(nameProblem("s3Bucket", "Upper_Case")).toBe('s3Bucket name "Upper_Case" may only contain lowercase letters, digits, dots and hyphens');
    expect(nameProblem("alb", "has_underscore")).toMatch(/may only contain letters, digits and hyphens/);
    expect(() => checkedName("kmsAlias", "no-prefix", "security")).toThrow('security: kmsAlias name "no-prefix" may only contain alias/');
  });

  test("enforces minimum lengths", () => {
    expect(nameProblem("s3Bucket", "ab")).toBe('s3Bucket name "ab" is 2 characters; AWS needs at least 3');
  });
});

describe("cidr", () => {
  test("carves subnets like Terraform's cidrsubnet", () => {
    const vpc = parseCidr("10.0.0.0/16");
    if (typeof vpc === "string") throw new Error(vpc);
    expect(subnetCidr(vpc, 20, 0)).toBe("10.0.0.0/20");
    expect(subnetCidr(vpc, 20, 15)).toBe("10.0.240.0/20");
    expect(() => subnetCidr(vpc, 20, 16)).toThrow("subnet 16 of /20 does not fit in 10.0.0.0/16");
  });

  test("detects overlap", () => {
    const a = parseCidr("10.0.0.0/16");
    const b = parseCidr("10.0.128.0/17");
    const c = parseCidr("10.1.0.0/16");
    if (typeof a === "string" || typeof b === "string" || typeof c === "string") throw new Error("parse");
    expect(cidrsOverlap(a, b)).toBe(true);
    expect(cidrsOverlap(a, c)).toBe(false);
  });

  test.each([
    ["10.0.0.0", "not an IPv4 CIDR of the form a.b.c.d/n"],
    ["10.0.0.256/16", "an octet is above 255"],
    ["10.0.0.0/33", "the prefix length is above 32"],
    ["10.0.0.1/16", "host bits are set; the network address is 10.0.0.0/16"],
  ])("explains why %s is invalid", (text, reason) => {
    expect(parseCidr(text)).toBe(reason);
  });
});
