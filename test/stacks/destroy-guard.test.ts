/**
 * What code cannot rebuild carries prevent_destroy in protected environments (prod) and in
 * the state bootstrap; lifting it is a reviewed config change (destroyGuard: false).
 */
import { Testing } from "cdktf";
import { ENVIRONMENT_INPUTS, loadConfig } from "../../environments";
import { PlatformStack, platformStackName } from "../../src/stacks/platform-stack";
import { StateBackendStack } from "../../src/stacks/state-backend-stack";
import { GUARDED_TYPES } from "../../lib/stateful";

type Json = { resource: Record<string, Record<string, any>> };
const synth = (stack: PlatformStack | StateBackendStack): Json => JSON.parse(Testing.synth(stack));
const guarded = (json: Json) =>
  Object.entries(json.resource).flatMap(([type, byName]) => Object.entries(byName).filter(([, r]) => r.lifecycle?.prevent_destroy === true).map(([name]) => `${type}.${name}`));
const ofTypes = (json: Json, types: readonly string[]) => Object.entries(json.resource).filter(([type]) => types.includes(type)).flatMap(([type, byName]) => Object.entries(byName).map(([name, r]) => ({ address: `${type}.${name}`, r })));

describe("destroy guard", () => {
  const config = loadConfig();
  const prod = config.environments.find((e) => e.name === "prod")!;
  const develop = config.environments.find((e) => e.name === "develop")!;
  const prodJson = synth(new PlatformStack(Testing.app(), platformStackName(prod), { config: prod }));

  test("prod: the database, buckets that do not force-destroy and KMS keys cannot be destroyed by any plan (ECR repositories: the prod account stack)", () => {
    const expected = ofTypes(prodJson, GUARDED_TYPES).filter(({ r }) => r.force_destroy !== true).map((x) => x.address).sort();
    expect(expected.length).toBeGreaterThanOrEqual(4);
    expect(guarded(prodJson).sort()).toEqual(expected);
    for (const type of ["aws_db_instance", "aws_kms_key", "aws_s3_bucket"]) expect(expected.some((a) => a.startsWith(`${type}.`))).toBe(true);
  });

  test("reproducible buckets (pipeline artifacts, force_destroy) stay destroyable", () => {
    const artifacts = ofTypes(prodJson, ["aws_s3_bucket"]).filter(({ r }) => r.force_destroy === true);
    expect(artifacts.length).toBeGreaterThan(0);
    for (const { r } of artifacts) expect(r.lifecycle?.prevent_destroy).toBeUndefined();
  });

  test("an unprotected environment has no guard, and destroyGuard: false lifts it in prod", () => {
    expect(guarded(synth(new PlatformStack(Testing.app(), platformStackName(develop), { config: develop })))).toEqual([]);
    // Loaded with the others: prod promotes what QA released, a chain only the whole config can check.
    const lifted = loadConfig(ENVIRONMENT_INPUTS.map((e) => (e.name === "prod" ? { ...structuredClone(e), destroyGuard: false } : e))).environments.find((e) => e.name === "prod")!;
    expect(guarded(synth(new PlatformStack(Testing.app(), platformStackName(lifted), { config: lifted })))).toEqual([]);
  });

  test("the state bootstrap guards its bucket, lock table and key", () => {
    const json = synth(new StateBackendStack(Testing.app(), "fargate-state", { config: config.stateBackend }));
    expect(guarded(json).map((a) => a.split(".")[0]).sort()).toEqual(expect.arrayContaining(["aws_dynamodb_table", "aws_kms_key", "aws_s3_bucket", "aws_s3_bucket"]));
    expect(guarded(synth(new StateBackendStack(Testing.app(), "fargate-local-state", { config: config.stateBackend, destroyGuard: false })))).toEqual([]);
  });

  test("the prod database's final snapshot is named at creation, so a second destroy never collides", () => {
    const [db] = ofTypes(prodJson, ["aws_db_instance"]);
    expect(db.r.final_snapshot_identifier).toMatch(/^fargate-prod-postgres-final-\$\{formatdate\("YYYYMMDDhhmmss", timestamp\(\)\)\}$/);
    // Owner of the name after creation: the creation itself.
    expect(db.r.lifecycle.ignore_changes).toEqual(["final_snapshot_identifier"]);
  });
});
