import { App, Aspects, Testing, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { applyPolicyPack, collectStack, evaluateStack, PolicyAspect } from "../../src/policy/aspect";
import { suppressRule } from "../../src/policy/suppressions";
import { ConstructPropsError } from "../../lib/errors";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";

function stackWithAspect(build: (stack: TerraformStack) => void): TerraformStack {
  const stack = new TerraformStack(Testing.app(), "policy-test");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  build(stack);
  Aspects.of(stack).add(new PolicyAspect());
  return stack;
}

/** A key without rotation: violates KMS-ROTATION (error). */
const badKey = (s: TerraformStack) => new KmsKey(s, "key", { description: "no rotation" });
/** A single-AZ database otherwise compliant: only warning rules fire. */
const singleAzDb = (s: TerraformStack) =>
  new DbInstance(s, "db", {
    engine: "postgres",
    instanceClass: "db.t4g.micro",
    allocatedStorage: 20,
    username: "app",
    storageEncrypted: true,
    kmsKeyId: KEY,
    manageMasterUserPassword: true,
    masterUserSecretKmsKeyId: KEY,
    publiclyAccessible: false,
    multiAz: false,
    deletionProtection: true,
  });

const annotationsOf = (stack: TerraformStack, level: "error" | "warn") =>
  stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === `@cdktf/${level}`).map((m) => `${c.node.path}: ${m.data}`));

describe("PolicyAspect", () => {
  test("an error finding fails Testing.fullSynth with the rule's message", () => {
    const stack = stackWithAspect(badKey);
    expect(() => Testing.fullSynth(stack)).toThrow(/\[KMS-ROTATION\] aws_kms_key\.key: enable_key_rotation is not true \(CKV_AWS_7, KMS\.4\)/);
  });

  test("an error finding fails app.synth() of an app wired with applyPolicyPack", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-aspect-"));
    try {
      const app = new App({ outdir, stackTraces: false });
      const stack = new TerraformStack(app, "bad");
      new AwsProvider(stack, "aws", { region: "us-east-1" });
      badKey(stack);
      applyPolicyPack(app);
      expect(() => app.synth()).toThrow(/KMS-ROTATION/);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test("a warning finding is reported but does not fail synthesis", () => {
    const stack = stackWithAspect(singleAzDb);
    expect(() => Testing.fullSynth(stack)).not.toThrow();
    expect(annotationsOf(stack, "warn")).toEqual([
      "policy-test/db: [RDS-MULTI-AZ] aws_db_instance.db: multi_az is not true (single-AZ database) (CKV_AWS_157, RDS.5)",
    ]);
    expect(annotationsOf(stack, "error")).toEqual([]);
  });

  test("a suppression with a reason silences the finding and shows in the findings with its reason", () => {
    const stack = stackWithAspect((s) => suppressRule(badKey(s), "KMS-ROTATION", "imported key rotated by the security team's own schedule"));
    expect(() => Testing.fullSynth(stack)).not.toThrow();
    expect(evaluateStack(stack).find((f) => f.ruleId === "KMS-ROTATION")).toMatchObject({
      status: "suppressed",
      address: "aws_kms_key.key",
      suppressionReason: "imported key rotated by the security team's own schedule",
    });
  });

  test("a suppression with an empty reason throws", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    const key = badKey(stack);
    expect(() => suppressRule(key, "KMS-ROTATION", "")).toThrow(ConstructPropsError);
    expect(() => suppressRule(key, "KMS-ROTATION", "   ")).toThrow(/needs a written reason/);
  });

  test("a suppression must name a rule and sit on a resource", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    expect(() => suppressRule(badKey(stack), "", "reason")).toThrow(/rule ID/);
    expect(() => suppressRule(new Construct(stack, "group"), "KMS-ROTATION", "reason")).toThrow(/per resource/);
  });

  test("a suppression for a rule that does not fire is reported as a stale warning", () => {
    const stack = stackWithAspect((s) => {
      const group = new CloudwatchLogGroup(s, "logs", { name: "x", kmsKeyId: KEY, retentionInDays: 7 });
      suppressRule(group, "LOGS-KMS", "was needed before the key existed");
    });
    expect(() => Testing.fullSynth(stack)).not.toThrow();
    expect(annotationsOf(stack, "warn")).toEqual([
      'policy-test/logs: [LOGS-KMS] aws_cloudwatch_log_group.logs: stale suppression: the rule is compliant here; remove it (its reason was "was needed before the key existed") (CKV_AWS_158)',
    ]);
  });

  test("does not repeat its annotations when a stack is synthesized twice", () => {
    const stack = stackWithAspect(singleAzDb);
    Testing.synth(stack);
    Testing.synth(stack);
    expect(annotationsOf(stack, "warn")).toHaveLength(1);
  });

  test("applyPolicyPack adds the aspect once per stack", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "a");
    applyPolicyPack(app);
    applyPolicyPack(app);
    expect(Aspects.of(stack).all.filter((a) => a instanceof PolicyAspect)).toHaveLength(1);
  });
});

describe("collectStack", () => {
  test("gives each resource and data source its address, resolved snake_case config and construct path", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    const key = new KmsKey(stack, "key", { enableKeyRotation: true });
    new CloudwatchLogGroup(stack, "logs", { name: "x", kmsKeyId: key.arn, retentionInDays: 7 });
    const { resources } = collectStack(stack);
    expect(resources.find((r) => r.type === "aws_cloudwatch_log_group")).toEqual({
      mode: "managed",
      type: "aws_cloudwatch_log_group",
      name: "logs",
      address: "aws_cloudwatch_log_group.logs",
      config: { name: "x", kms_key_id: "${aws_kms_key.key.arn}", retention_in_days: 7 },
      path: "s/logs",
    });
  });
});
