import * as fs from "fs";
import * as path from "path";
import { evaluate } from "../../src/policy/aspect";
import { errorsOf, warningsOf } from "../../src/policy/engine";
import { ALL_RULES } from "../../src/policy/rules";
import { PolicyRule } from "../../src/policy/types";
import { parseJsonAttribute } from "../../src/policy/parse";
import { resource } from "./fixtures";
import { ResourceIndex } from "../../src/policy/context";

/** A toy rule: buckets must be named "ok". */
const named: PolicyRule = {
  id: "TEST-NAMED",
  description: "Buckets are named ok.",
  severity: "error",
  controls: ["CKV_AWS_0"],
  resourceTypes: ["aws_s3_bucket"],
  check: (r) => (r.config.bucket === "ok" ? { status: "compliant" } : { status: "non-compliant", reason: `bucket is ${r.config.bucket}` }),
};

describe("evaluate", () => {
  const good = resource("aws_s3_bucket", "good", { bucket: "ok" });
  const bad = resource("aws_s3_bucket", "bad", { bucket: "nope" });

  test("runs each rule on the managed resources of its types and formats the message", () => {
    const findings = evaluate([good, bad, resource("aws_s3_bucket", "data", { bucket: "nope" }, "data"), resource("aws_vpc", "v", {})], [named]);
    expect(findings.map((f) => [f.address, f.status])).toEqual([
      ["aws_s3_bucket.good", "compliant"],
      ["aws_s3_bucket.bad", "non-compliant"],
    ]);
    expect(errorsOf(findings).map((f) => f.message)).toEqual(["[TEST-NAMED] aws_s3_bucket.bad: bucket is nope (CKV_AWS_0)"]);
  });

  test("a suppression turns a violation into `suppressed` with its reason", () => {
    const findings = evaluate([bad], [named], [{ address: bad.address, ruleId: "TEST-NAMED", reason: "legacy name, renamed in PLAT-12" }]);
    expect(findings).toEqual([expect.objectContaining({ status: "suppressed", suppressionReason: "legacy name, renamed in PLAT-12" })]);
    expect(errorsOf(findings)).toEqual([]);
  });

  test("a suppression that does not match a violation is a stale-suppression warning", () => {
    const findings = evaluate([good], [named], [
      { address: good.address, ruleId: "TEST-NAMED", reason: "old" },
      { address: good.address, ruleId: "NO-SUCH-RULE", reason: "typo" },
    ]);
    expect(warningsOf(findings).map((f) => f.message)).toEqual([
      '[TEST-NAMED] aws_s3_bucket.good: stale suppression: the rule is compliant here; remove it (its reason was "old") (CKV_AWS_0)',
      '[NO-SUCH-RULE] aws_s3_bucket.good: stale suppression: no rule has this ID; remove it (its reason was "typo") (no public control)',
    ]);
  });

  test("a suppression without a reason throws", () => {
    expect(() => evaluate([bad], [named], [{ address: bad.address, ruleId: "TEST-NAMED", reason: " " }])).toThrow(/needs a written reason/);
  });

  test("a rule that throws is reported as an error, not skipped", () => {
    const broken: PolicyRule = { ...named, id: "TEST-BROKEN", check: () => { throw new Error("boom"); } };
    expect(errorsOf(evaluate([good], [broken]))[0].message).toBe("[TEST-BROKEN] aws_s3_bucket.good: rule could not evaluate this resource: boom (CKV_AWS_0)");
  });
});

describe("the rule list", () => {
  test("every rule has a unique ID, a one-line description, a severity and resource types", () => {
    const ids = ALL_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of ALL_RULES) {
      expect(rule.id).toMatch(/^[A-Z0-9]+(-[A-Z0-9]+)+$/);
      expect(rule.description).not.toMatch(/\n/);
      expect(["error", "warning"]).toContain(rule.severity);
      expect(rule.resourceTypes.length).toBeGreaterThan(0);
      for (const control of rule.controls) expect(control).toMatch(/^(CKV2?_AWS_\d+|[A-Za-z0-9]+\.\d+)$/);
    }
  });

  test("is one file per rule under src/policy/rules, each in the list", () => {
    const dir = path.join(__dirname, "../../src/policy/rules");
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "index.ts" && !f.endsWith("-allowlist.ts"));
    expect(files.map((f) => f.replace(/\.ts$/, "").toUpperCase()).sort()).toEqual(ALL_RULES.map((r) => r.id).sort());
  });
});

describe("parseJsonAttribute", () => {
  test("reads literal JSON with references inside strings", () => {
    expect(parseJsonAttribute('[{"image":"${aws_ecr_repository.api.repository_url}:1"}]')).toEqual([{ image: "${aws_ecr_repository.api.repository_url}:1" }]);
  });
  test("reads the HCL that Fn.jsonencode renders, keeping expressions as ${...} strings", () => {
    const value = '${jsonencode([{"name" = "api", "privileged" = false, "cpu" = 256, "image" = "${aws_ecr_repository.api.repository_url}:1", "role" = aws_iam_role.r.arn, "env" = [], "x" = null}])}';
    expect(parseJsonAttribute(value)).toEqual([{ name: "api", privileged: false, cpu: 256, image: "${aws_ecr_repository.api.repository_url}:1", role: "${aws_iam_role.r.arn}", env: [], x: null }]);
  });
  test("gives undefined for other expressions", () => {
    expect(parseJsonAttribute('${file("x.json")}')).toBeUndefined();
    expect(parseJsonAttribute(42)).toBeUndefined();
  });
});

describe("ResourceIndex", () => {
  const vpc = resource("aws_vpc", "main", {});
  const index = new ResourceIndex([vpc, resource("aws_vpc", "main", {}, "data")]);
  test("mentions: a reference to the address, not to a data source or a longer name of the same type", () => {
    expect(index.mentions("${aws_vpc.main.id}", vpc)).toBe(true);
    expect(index.mentions(["x", { nested: "${concat([aws_vpc.main.id], var.x)}" }], vpc)).toBe(true);
    expect(index.mentions("${data.aws_vpc.main.id}", vpc)).toBe(false);
    expect(index.mentions("${aws_vpc.main2.id}", vpc)).toBe(false);
    expect(index.mentions("aws_vpc.main.id", vpc)).toBe(false);
  });
  test("resolveReference: the resource or data source a single reference points at", () => {
    expect(index.resolveReference("${aws_vpc.main.id}")).toBe(vpc);
    expect(index.resolveReference("${data.aws_vpc.main.id}")?.mode).toBe("data");
    expect(index.resolveReference("vpc-123")).toBeUndefined();
  });
});

describe("resources with count = 0", () => {
  test("are neither checked nor seen by other rules (Terraform does not create them)", () => {
    const bucket = resource("aws_s3_bucket", "b", { bucket: "b" });
    const policy = resource("aws_s3_bucket_policy", "p", {
      count: 0,
      bucket: "${aws_s3_bucket.b.id}",
      policy: JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::b/*", Condition: { Bool: { "aws:SecureTransport": "false" } } }] }),
    });
    const tls = ALL_RULES.find((r) => r.id === "S3-TLS-ONLY")!;
    const [finding] = evaluate([bucket, policy], [tls]);
    expect(finding.status).toBe("non-compliant");
    expect(finding.reason).toMatch(/\(aws_s3_bucket_policy\.p references it but has count = 0: not created; if that is intended, suppress the rule on this resource with the reason\)$/);
    expect(evaluate([{ ...bucket, config: { ...bucket.config, count: 0 } }], [tls])).toEqual([]);
  });
});
