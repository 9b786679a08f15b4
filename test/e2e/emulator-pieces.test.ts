/**
 * Pure pieces of the emulator rung (scripts/e2e*, scripts/scan.ts, src/emulator.ts,
 * lib/checkov.ts): fast, no moto, no Terraform.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { App, TerraformStack, Testing } from "cdktf";
import { AwsProvider, awsProviderEndpointsToTerraform } from "@cdktf/provider-aws/lib/provider";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { lockTableProblems, LockTableError } from "../../scripts/e2e/lock-table";
import { classifyDiffs, EMULATOR_DIFFS, EmulatorDiff, emulatorDiffProblems } from "../../scripts/e2e/emulator-diffs";
import { requestTarget, startEgressGuard } from "../../scripts/e2e/egress-guard";
import { freePort } from "../../scripts/emulator";
import { staleReason, toolsHash, VENV_DIR } from "../../scripts/python-tools";
import { baseAddress, declaredSkips, summarize, typeIndex } from "../../scripts/scan";
import { emulatorLeftovers } from "../../scripts/e2e";
import { ENDPOINT_ALIAS_GROUPS, allProviderEndpoints, emulatorBackendSettings, emulatorProviderOverrides, parseEmulatorEndpoint, providerEndpointKeys } from "../../src/emulator";
import { CheckovSkipError, skipCheckov, skipsInResourceJson } from "../../lib/checkov";

describe("lock-table preflight", () => {
  const good = { TableName: "t", KeySchema: [{ AttributeName: "LockID", KeyType: "HASH" as const }], AttributeDefinitions: [{ AttributeName: "LockID", AttributeType: "S" as const }], TableStatus: "ACTIVE" as const };

  test("accepts hash key LockID of type S", () => {
    expect(lockTableProblems(good)).toEqual([]);
  });

  test("catches the source documents' table keyed `id`", () => {
    const problems = lockTableProblems({ ...good, KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }] });
    expect(problems).toEqual([expect.stringContaining('hash key "id"')]);
    expect(new LockTableError("t", problems).message).toMatch(/AttributeName=LockID,KeyType=HASH/);
  });

  test("says the name is case-sensitive for `lockid`", () => {
    expect(lockTableProblems({ ...good, KeySchema: [{ AttributeName: "lockid", KeyType: "HASH" }] })[0]).toMatch(/case-sensitive/);
  });

  test("catches a numeric LockID, a sort key and a missing hash key", () => {
    expect(lockTableProblems({ ...good, AttributeDefinitions: [{ AttributeName: "LockID", AttributeType: "N" }] })[0]).toMatch(/must be S/);
    expect(lockTableProblems({ ...good, KeySchema: [...good.KeySchema, { AttributeName: "Path", KeyType: "RANGE" }] })[0]).toMatch(/sort key "Path"/);
    expect(lockTableProblems({ ...good, KeySchema: [] })[0]).toMatch(/no hash/);
  });
});

describe("emulator diff list", () => {
  const change = (type: string, actions: string[], before: object, after: object) => ({ address: `${type}.x`, type, mode: "managed", change: { actions, before, after, after_unknown: {} } });

  test("every emulator-caused diff names its cause and why real AWS would not diff", () => {
    expect(emulatorDiffProblems(EMULATOR_DIFFS)).toEqual([]);
    const vague: EmulatorDiff = { type: "aws_lb", attributes: [], actions: ["update"], cause: "moto", realAwsProof: "trust me" };
    expect(emulatorDiffProblems([vague])).toEqual([
      "aws_lb: the cause must say what the emulator does (60+ characters)",
      "aws_lb: the real-AWS proof must name a reference or an observed plan (60+ characters)",
      "aws_lb: list the attributes; an entry never tolerates any attribute of a type",
    ]);
  });

  test("no-op and read changes are not diffs; anything else is unexplained unless listed", () => {
    const v = classifyDiffs([change("aws_vpc", ["no-op"], { a: 1 }, { a: 1 }), change("aws_lb", ["update"], { idle: 60 }, { idle: 30 })]);
    expect(v.unexplained).toEqual([{ address: "aws_lb.x", actions: ["update"], attributes: ["idle"] }]);
  });

  test("a listed entry explains only its type, actions and attributes", () => {
    const entry: EmulatorDiff = { type: "aws_lb", attributes: ["idle"], actions: ["update"], cause: "c", realAwsProof: "p" };
    expect(classifyDiffs([change("aws_lb", ["update"], { idle: 60 }, { idle: 30 })], [entry]).unexplained).toEqual([]);
    expect(classifyDiffs([change("aws_lb", ["update"], { other: 1 }, { other: 2 })], [entry]).unexplained).toHaveLength(1);
    expect(classifyDiffs([change("aws_lb", ["delete", "create"], {}, { idle: 1 })], [entry]).unexplained).toHaveLength(1);
  });
});

describe("egress guard", () => {
  test("reads the target of a proxy request", () => {
    expect(requestTarget("CONNECT sts.amazonaws.com:443 HTTP/1.1\r")).toBe("CONNECT sts.amazonaws.com:443");
  });

  test("records and refuses a CONNECT", async () => {
    const guard = await startEgressGuard();
    try {
      const port = Number(new URL(guard.url).port);
      const reply = await new Promise<string>((resolve, reject) => {
        const s = net.connect(port, "127.0.0.1", () => s.write("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"));
        let data = "";
        s.on("data", (d) => (data += d.toString()));
        s.on("end", () => resolve(data));
        s.on("error", reject);
      });
      expect(reply).toMatch(/^HTTP\/1.1 403/);
      expect(guard.attempts).toEqual(["CONNECT example.com:443"]);
      expect(guard.env().NO_PROXY).toBe("127.0.0.1,localhost");
    } finally {
      await guard.close();
    }
  });
});

describe("emulator endpoint settings", () => {
  test("only loopback addresses are accepted", () => {
    expect(parseEmulatorEndpoint("https://127.0.0.1:5000/")).toBe("https://127.0.0.1:5000");
    expect(() => parseEmulatorEndpoint("https://10.0.0.5:5000")).toThrow(/loopback/);
    expect(() => parseEmulatorEndpoint("https://s3.amazonaws.com")).toThrow(/loopback/);
    expect(() => parseEmulatorEndpoint("https://127.0.0.1:70000")).toThrow(/loopback/);
  });

  test("every provider service endpoint points at the emulator", () => {
    const keys = providerEndpointKeys();
    expect(keys.length).toBeGreaterThan(250);
    expect(keys).toEqual(expect.arrayContaining(["ec2", "ecs", "elbv2", "rds", "iam", "sts", "s3", "dynamodb", "kms", "logs", "cloudtrail", "config", "ssm", "secretsmanager"]));
    const names = Object.entries(awsProviderEndpointsToTerraform(allProviderEndpoints("https://127.0.0.1:5000"))).filter(([, v]) => v !== undefined).map(([k]) => k);
    for (const group of ENDPOINT_ALIAS_GROUPS) expect(group.filter((name) => names.includes(name))).toHaveLength(1); // aliases set twice warn
    const endpoints = allProviderEndpoints("https://127.0.0.1:5000") as Record<string, string>;
    expect(new Set(Object.values(endpoints))).toEqual(new Set(["https://127.0.0.1:5000"]));
    const p = emulatorProviderOverrides("https://127.0.0.1:5000");
    expect(p.maxRetries).toBeLessThanOrEqual(3);
    expect(p.s3UsePathStyle).toBe(true);
    const b = emulatorBackendSettings("https://127.0.0.1:5000");
    expect(b.endpoints).toEqual({ s3: "https://127.0.0.1:5000", dynamodb: "https://127.0.0.1:5000", sts: "https://127.0.0.1:5000", iam: "https://127.0.0.1:5000" });
  });

  test("freePort returns a port nobody listens on", async () => {
    const port = await freePort();
    await new Promise<void>((resolve, reject) => {
      const s = net.createServer().listen(port, "127.0.0.1", () => s.close(() => resolve()));
      s.on("error", reject);
    });
  });
});

describe("checkov skips", () => {
  function bucket() {
    const stack = new TerraformStack(Testing.app(), "s");
    new AwsProvider(stack, "aws", { region: "us-east-1" });
    return new S3Bucket(stack, "b", { bucket: "x" });
  }

  test("need a check ID and a real reason, once per check", () => {
    const b = bucket();
    expect(() => skipCheckov(b, "S3_LOGGING", "a long enough reason here")).toThrow(CheckovSkipError);
    expect(() => skipCheckov(b, "CKV_AWS_18", "because")).toThrow(/at least 15/);
    skipCheckov(b, "CKV_AWS_18", "logs go to the central log account");
    expect(() => skipCheckov(b, "CKV_AWS_18", "logs go to the central log account")).toThrow(/twice/);
  });

  test("land in the resource's // comment, where scan finds them", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "ckv-"));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, "s");
      new AwsProvider(stack, "aws", { region: "us-east-1" });
      const b = new S3Bucket(stack, "b", { bucket: "x" });
      skipCheckov(b, "CKV_AWS_18", "logs go to the central log account");
      skipCheckov(b, "CKV2_AWS_62", "no event consumers for this bucket");
      app.synth();
      const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "s", "cdk.tf.json"), "utf8"));
      const body = json.resource.aws_s3_bucket.b;
      expect(body["//"].metadata).toBeDefined(); // cdktf's own comment is kept
      expect([...skipsInResourceJson(body)]).toEqual([
        ["CKV_AWS_18", "logs go to the central log account"],
        ["CKV2_AWS_62", "no event consumers for this bucket"],
      ]);
      expect(declaredSkips("s", json)).toEqual([
        { stack: "s", resource: "aws_s3_bucket.b", checkId: "CKV_AWS_18", reason: "logs go to the central log account" },
        { stack: "s", resource: "aws_s3_bucket.b", checkId: "CKV2_AWS_62", reason: "no event consumers for this bucket" },
      ]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe("scan result accounting", () => {
  test("addresses lose indexes and module prefixes", () => {
    expect(baseAddress('module.m.aws_s3_bucket.b["k"]')).toBe("aws_s3_bucket.b");
    expect(baseAddress("aws_eip.nat[0]")).toBe("aws_eip.nat");
    const types = typeIndex({ resource: { aws_lb: { alb_lb_1: {} } }, data: { aws_iam_policy_document: { key_policy_2: {} } } });
    expect(baseAddress("resource.alb_lb_1", types)).toBe("aws_lb.alb_lb_1");
    expect(baseAddress("data.key_policy_2", types)).toBe("data.aws_iam_policy_document.key_policy_2");
    expect(baseAddress("data.aws_iam_policy_document.key_policy_2")).toBe("data.aws_iam_policy_document.key_policy_2");
  });

  test("a declared skip turns exactly its failure into a skip; the rest stay failed", () => {
    const out = {
      check_type: "terraform_plan",
      results: {
        passed_checks: [{ check_id: "CKV_AWS_1", file_path: "/p/dev.json", resource: "aws_vpc.v" }],
        failed_checks: [
          { check_id: "CKV_AWS_18", check_name: "logging", file_path: "/p/dev.json", resource: "aws_s3_bucket.b" },
          { check_id: "CKV_AWS_18", check_name: "logging", file_path: "/p/dev.json", resource: "aws_s3_bucket.c" },
        ],
        skipped_checks: [],
      },
    };
    const skip = { stack: "dev", resource: "aws_s3_bucket.b", checkId: "CKV_AWS_18", reason: "central logs" };
    const { results, used } = summarize("terraform_plan", out, ["dev"], [skip], (f) => (f.endsWith("dev.json") ? "dev" : undefined));
    expect(results[0].passed).toBe(1);
    expect(results[0].failed.map((f) => f.resource)).toEqual(["aws_s3_bucket.c"]);
    expect(results[0].skipped).toEqual([{ finding: expect.objectContaining({ resource: "aws_s3_bucket.b" }), reason: "central logs" }]);
    expect(used.has(skip)).toBe(true);
  });
});

describe("emulator leftovers", () => {
  test("new models are leftovers, except KMS keys pending deletion", () => {
    const base = { ec2: { vpcs: [{ id: "default" }] } };
    const now = { ec2: { vpcs: [{ id: "default" }, { id: "vpc-1" }] }, kms: { keys: [{ id: "k", key_state: "PendingDeletion" }] } };
    expect(emulatorLeftovers(base, now)).toEqual([expect.stringMatching(/^ec2\.vpcs: 1/)]);
    expect(emulatorLeftovers(base, base)).toEqual([]);
  });
});

describe("python tools install", () => {
  test("the hash follows the requirements and the interpreter", () => {
    expect(toolsHash("moto==1", "Python 3.11")).not.toBe(toolsHash("moto==2", "Python 3.11"));
    expect(toolsHash("moto==1", "Python 3.11")).not.toBe(toolsHash("moto==1", "Python 3.12"));
    expect(toolsHash("# why\nmoto==1  # pinned\n\n", "Python 3.11")).toBe(toolsHash("moto==1", "Python 3.11"));
  });

  test("a missing, foreign or outdated venv is rebuilt", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "venv-"));
    try {
      expect(staleReason(root, "h")).toMatch(/no .venv/);
      fs.mkdirSync(path.join(root, VENV_DIR, "bin"), { recursive: true });
      expect(staleReason(root, "h")).toMatch(/not built by this script/);
      fs.writeFileSync(path.join(root, VENV_DIR, ".tools-hash"), "old\n");
      expect(staleReason(root, "h")).toMatch(/changed/);
      fs.writeFileSync(path.join(root, VENV_DIR, ".tools-hash"), "h\n");
      expect(staleReason(root, "h")).toMatch(/lacks moto_server, checkov/);
      for (const t of ["moto_server", "checkov"]) fs.writeFileSync(path.join(root, VENV_DIR, "bin", t), "");
      expect(staleReason(root, "h")).toBeUndefined();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("e2e timings report (what npm run bench reads)", () => {
  test("lists every phase with its time and outcome, a failed one included", async () => {
    const { Timings } = await import("../../scripts/e2e/proc");
    const t = new Timings();
    const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      await t.phase("one", async () => undefined);
      await expect(t.phase("two", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    } finally {
      write.mockRestore();
    }
    const report = t.report();
    expect(report.phases.map((p) => [p.name, p.ok])).toEqual([
      ["one", true],
      ["two", false],
    ]);
    expect(report.totalMs).toBe(report.phases[0].ms + report.phases[1].ms);
  });
});
