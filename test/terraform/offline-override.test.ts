import { offlineOverride } from "../../scripts/lib/terraform";

describe("offlineOverride", () => {
  test("neutralizes a provider's assume_role (no STS offline) and leaves providers without one alone", () => {
    const withRole = offlineOverride({ provider: { aws: [{ region: "us-east-1", assume_role: [{ role_arn: "arn:aws:iam::111111111111:role/fargate-deploy", session_name: "s" }] }] } });
    expect((withRole.provider as any).aws[0].assume_role).toEqual([{ role_arn: "" }]);
    const without = offlineOverride({ provider: { aws: [{ region: "us-east-1" }] } });
    expect((without.provider as any).aws[0]).not.toHaveProperty("assume_role");
    // The S3 backend (and its assume_role into the state account) is replaced by a local one.
    expect(withRole.terraform).toEqual({ backend: { local: { path: "terraform.tfstate" } } });
  });
});
