/**
 * The emulator shims (scripts/emulator-shims.ts).
 *
 * 1. Pure: the certificate, the proxy and every shim against a stub upstream (no moto).
 * 2. Probes of the pinned moto (`.venv/bin/moto_server`, requirements-tools.txt): one per
 *    shim, asserting the raw moto bug the shim names STILL happens. When a probe fails, moto
 *    has fixed that bug: delete the shim (and its probe), then rerun `npm run test:e2e`.
 *    The same calls through the proxy must then work. Without the venv the probes are
 *    SKIPPED with a banner (`npm run tools:install` builds it); REQUIRE_MOTO=1 makes that a
 *    failure. MOTO_SERVER=<path to moto_server> probes another moto build (e.g. a candidate pin).
 */
import { ChildProcess, spawn } from "child_process";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import * as tls from "tls";
import { CloudWatchClient, DescribeAlarmsCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, DescribeSecurityGroupRulesCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateDBParameterGroupCommand,
  CreateDBSubnetGroupCommand,
  DescribeDBParametersCommand,
  DescribeDBSubnetGroupsCommand,
  ListTagsForResourceCommand,
  ModifyDBParameterGroupCommand,
  ModifyDBSubnetGroupCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { CreateBucketCommand, GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  awsJsonCall,
  CODEBUILD_NO_LOCATION,
  defaultShims,
  isoToEpoch,
  requestRegion,
  requestSigningName,
  selfSignedCertificate,
  ShimProxy,
  startShimProxy,
  toJsonWire,
  withRuleDescriptions,
} from "../../scripts/emulator-shims";
import { emulatorGet, freePort, waitForEmulator } from "../../scripts/emulator";
import { venvBin } from "../../scripts/python-tools";

// ---------------------------------------------------------------------------------------
// Stub upstream: an HTTPS server that records requests and answers from a handler
// ---------------------------------------------------------------------------------------

interface Seen {
  target: string;
  body: any;
  raw: string;
  headers: http.IncomingHttpHeaders;
  url: string;
}
type StubHandler = (seen: Seen) => { status?: number; body: unknown; headers?: Record<string, string> };

async function stubUpstream(handler: StubHandler): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = https.createServer(selfSignedCertificate(), (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const s = { target: String(req.headers["x-amz-target"] ?? ""), body, raw, headers: req.headers, url: req.url ?? "" };
      seen.push(s);
      const r = handler(s);
      const text = typeof r.body === "string" ? r.body : JSON.stringify(r.body);
      res.writeHead(r.status ?? 200, { "content-type": "application/x-amz-json-1.1", ...r.headers });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function withProxy(handler: StubHandler, body: (proxy: ShimProxy, seen: Seen[]) => Promise<void>): Promise<void> {
  const upstream = await stubUpstream(handler);
  const proxy = await startShimProxy({ upstream: upstream.url });
  try {
    await body(proxy, upstream.seen);
  } finally {
    await proxy.close();
    await upstream.close();
  }
}

const call = (proxy: { endpoint: string }, signing: string, target: string, input: unknown) => awsJsonCall(proxy.endpoint, signing, target, input);

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
/** SDK v3 client settings for an endpoint with the emulator's self-signed certificate. */
const sdk = (endpoint: string) => ({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIAEMULATOR00000000", secretAccessKey: "emulator" },
  maxAttempts: 1,
  requestHandler: { httpsAgent: new https.Agent({ rejectUnauthorized: false }) },
});
const xml = (body: string, status = 200) => ({ status, body, headers: { "content-type": "text/xml" } });
const form = (raw: string) => Object.fromEntries(new URLSearchParams(raw));

describe("emulator shim proxy (no moto)", () => {
  test("its certificate is a valid self-signed X.509 for 127.0.0.1", () => {
    const { cert } = selfSignedCertificate(new Date("2026-01-01T00:00:00Z"));
    const x = new X509Certificate(cert);
    expect(x.subject).toBe("CN=127.0.0.1");
    expect(x.subjectAltName).toBe("IP Address:127.0.0.1");
    expect(x.verify(x.publicKey)).toBe(true);
    expect(new Date(x.validTo).getTime()).toBeGreaterThan(new Date("2026-01-07T00:00:00Z").getTime());
  });

  test("every certificate it makes loads into TLS (its serial never has DER's illegal leading zero)", () => {
    // One in 256 serials started 0x00 before the fix, and OpenSSL refused them ("illegal padding").
    for (let i = 0; i < 600; i++) expect(() => tls.createSecureContext(selfSignedCertificate())).not.toThrow();
  });

  test("fronts only a loopback moto", async () => {
    await expect(startShimProxy({ upstream: "https://10.0.0.1:5000" })).rejects.toThrow(/loopback/);
  });

  test("forwards everything no shim names unchanged (method, path, headers, body, status)", async () => {
    await withProxy(
      () => ({ status: 418, body: "<tea/>", headers: { "x-moto": "yes" } }),
      async (proxy, seen) => {
        const res = await new Promise<{ status: number; body: string; header?: string }>((resolve, reject) => {
          const req = https.request(`${proxy.endpoint}/bucket/key?versionId=1`, { method: "PUT", rejectUnauthorized: false, headers: { "x-amz-meta-a": "b" } }, (r) => {
            let text = "";
            r.on("data", (d: Buffer) => (text += d.toString()));
            r.on("end", () => resolve({ status: r.statusCode ?? 0, body: text, header: r.headers["x-moto"] as string }));
          });
          req.on("error", reject);
          req.end("state-bytes");
        });
        expect(res).toEqual({ status: 418, body: "<tea/>", header: "yes" });
        expect(seen[0]).toEqual(expect.objectContaining({ url: "/bucket/key?versionId=1", raw: "state-bytes" }));
        expect(seen[0].headers["x-amz-meta-a"]).toBe("b");
        expect(proxy.hits).toEqual({});
      },
    );
  });

  test("reads the region from the SigV4 credential scope", () => {
    expect(requestRegion("AWS4-HMAC-SHA256 Credential=AKIA/20250101/eu-west-1/codedeploy/aws4_request, SignedHeaders=host")).toBe("eu-west-1");
    expect(requestRegion(undefined)).toBe("us-east-1");
  });

  test("every shim names its moto bug in moto's source", () => {
    for (const s of defaultShims()) expect(s.bug).toMatch(/moto\/[a-z_]+(\/[a-z_]+\.py)?/);
  });

  test("codepipeline-timestamps: ISO strings under the timestamp keys become epoch seconds, nothing else changes", async () => {
    expect(isoToEpoch({ created: "2025-01-02T03:04:05.500Z", name: "2025-01-02T03:04:05Z", list: [{ updated: "2025-01-02T03:04:05" }] }, new Set(["created", "updated"]))).toEqual({
      created: 1735787045.5,
      name: "2025-01-02T03:04:05Z",
      list: [{ updated: 1735787045 }],
    });
    await withProxy(
      () => ({ body: { pipeline: { name: "p" }, metadata: { pipelineArn: "arn", created: "2025-01-02T03:04:05.000Z", updated: "2025-01-02T03:04:06.000Z" } } }),
      async (proxy) => {
        const r = await call(proxy, "codepipeline", "CodePipeline_20150709.GetPipeline", { name: "p" });
        expect(r.json.metadata).toEqual({ pipelineArn: "arn", created: 1735787045, updated: 1735787046 });
        expect(proxy.hits).toEqual({ "codepipeline-timestamps": 1 });
      },
    );
  });

  test("codebuild-projects: a CODEPIPELINE project gets a placeholder location on the way in, loses it and gets its key back on the way out", async () => {
    const projects = new Map<string, any>();
    await withProxy(
      ({ target, body }) => {
        if (target.endsWith(".CreateProject")) {
          const project = { ...body, arn: `arn:aws:codebuild:us-east-1:123456789012:project/${body.name}`, encryptionKey: "arn:aws:kms:us-east-1:123456789012:alias/aws/s3" };
          projects.set(body.name, project);
          return { body: { project } };
        }
        if (target.endsWith(".DeleteProject")) return (projects.delete(body.name), { body: {} });
        return { body: { projects: (body.names as string[]).map((n) => projects.get(n)).filter(Boolean), projectsNotFound: [] } };
      },
      async (proxy, seen) => {
        const input = { name: "b", source: { type: "CODEPIPELINE", buildspec: "x" }, artifacts: { type: "CODEPIPELINE" }, environment: { type: "LINUX_CONTAINER" }, encryptionKey: "arn:aws:kms:us-east-1:123456789012:key/k" };
        const created = await call(proxy, "codebuild", "CodeBuild_20161006.CreateProject", input);
        expect(seen[0].body.source.location).toBe(CODEBUILD_NO_LOCATION);
        expect(seen[0].body.artifacts.location).toBe(CODEBUILD_NO_LOCATION);
        expect(created.json.project.source).toEqual({ type: "CODEPIPELINE", buildspec: "x" });
        const got = await call(proxy, "codebuild", "CodeBuild_20161006.BatchGetProjects", { names: ["b"] });
        expect(got.json.projects[0]).toEqual(expect.objectContaining({ source: { type: "CODEPIPELINE", buildspec: "x" }, artifacts: { type: "CODEPIPELINE" }, encryptionKey: input.encryptionKey }));
        // UpdateProject = delete + create in moto, same name, merged fields.
        const updated = await call(proxy, "codebuild", "CodeBuild_20161006.UpdateProject", { name: "b", environment: { type: "LINUX_CONTAINER", privilegedMode: true } });
        expect(updated.status).toBe(200);
        expect(seen.slice(-3).map((s) => s.target.split(".")[1])).toEqual(["BatchGetProjects", "DeleteProject", "CreateProject"]);
        expect(updated.json.project).toEqual(expect.objectContaining({ environment: { type: "LINUX_CONTAINER", privilegedMode: true }, source: { type: "CODEPIPELINE", buildspec: "x" }, encryptionKey: input.encryptionKey }));
        expect((await call(proxy, "codebuild", "CodeBuild_20161006.UpdateProject", { name: "nope" })).json.__type).toBe("ResourceNotFoundException");
      },
    );
  });

  test("appautoscaling-tags: tags given at registration are listed; tag and untag work", async () => {
    const arn = "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/abc";
    await withProxy(
      () => ({ body: { ScalableTargetARN: arn } }),
      async (proxy, seen) => {
        const register = await call(proxy, "application-autoscaling", "AnyScaleFrontendService.RegisterScalableTarget", { ServiceNamespace: "ecs", ResourceId: "service/c/s", Tags: { Service: "api" } });
        expect(register.json).toEqual({ ScalableTargetARN: arn });
        expect(seen).toHaveLength(1); // registration goes to moto; the tag operations never do
        const list = () => call(proxy, "application-autoscaling", "AnyScaleFrontendService.ListTagsForResource", { ResourceARN: arn }).then((r) => r.json.Tags);
        expect(await list()).toEqual({ Service: "api" });
        await call(proxy, "application-autoscaling", "AnyScaleFrontendService.TagResource", { ResourceARN: arn, Tags: { Tier: "web" } });
        await call(proxy, "application-autoscaling", "AnyScaleFrontendService.UntagResource", { ResourceARN: arn, TagKeys: ["Service"] });
        expect(await list()).toEqual({ Tier: "web" });
        expect(seen).toHaveLength(1);
      },
    );
  });

  test("codestar-connections: create (PENDING), get, tags, delete, not found; and the model dump lists live connections", async () => {
    await withProxy(
      () => ({ body: { moto: { Model: [] } } }),
      async (proxy, seen) => {
        const created = await call(proxy, "codestar-connections", "CodeStar_connections_20191201.CreateConnection", { ConnectionName: "bb", ProviderType: "Bitbucket", Tags: [{ Key: "a", Value: "1" }] });
        const arn = created.json.ConnectionArn as string;
        expect(arn).toMatch(/^arn:aws:codestar-connections:us-east-1:123456789012:connection\/[0-9a-f-]{36}$/);
        const got = await call(proxy, "codestar-connections", "CodeStar_connections_20191201.GetConnection", { ConnectionArn: arn });
        expect(got.json.Connection).toEqual(expect.objectContaining({ ConnectionName: "bb", ProviderType: "Bitbucket", ConnectionStatus: "PENDING", OwnerAccountId: "123456789012" }));
        expect((await call(proxy, "codestar-connections", "CodeStar_connections_20191201.ListTagsForResource", { ResourceArn: arn })).json.Tags).toEqual([{ Key: "a", Value: "1" }]);
        const dump = JSON.parse((await emulatorGet(proxy.endpoint, "/moto-api/data.json")).body);
        expect(dump.moto).toEqual({ Model: [] });
        expect(dump["CodeStar_connections_20191201 (emulator shim codestar-connections)"].Connection).toHaveLength(1);
        expect((await call(proxy, "codestar-connections", "CodeStar_connections_20191201.DeleteConnection", { ConnectionArn: arn })).status).toBe(200);
        const gone = await call(proxy, "codestar-connections", "CodeStar_connections_20191201.GetConnection", { ConnectionArn: arn });
        expect(gone.status).toBe(400);
        expect(gone.json.__type).toBe("ResourceNotFoundException");
        expect(seen.map((s) => s.url)).toEqual(["/moto-api/data.json"]); // nothing else reached moto
      },
    );
  });

  test("codedeploy: application, blue/green group, custom config and deployment lifecycle with AWS's errors", async () => {
    await withProxy(
      () => ({ body: {} }),
      async (proxy, seen) => {
        const cd = (op: string, input: unknown) => call(proxy, "codedeploy", `CodeDeploy_20141006.${op}`, input);
        expect((await cd("CreateApplication", { applicationName: "api", computePlatform: "ECS", tags: [{ Key: "Service", Value: "api" }] })).status).toBe(200);
        expect((await cd("CreateApplication", { applicationName: "api", computePlatform: "ECS" })).json.__type).toBe("ApplicationAlreadyExistsException");
        expect((await cd("GetApplication", { applicationName: "api" })).json.application).toEqual(expect.objectContaining({ applicationName: "api", computePlatform: "ECS", createTime: expect.any(Number) }));
        expect((await cd("ListTagsForResource", { ResourceArn: "arn:aws:codedeploy:us-east-1:123456789012:application:api" })).json.Tags).toEqual([{ Key: "Service", Value: "api" }]);

        expect((await cd("CreateDeploymentGroup", { applicationName: "api", deploymentGroupName: "g", serviceRoleArn: "r", deploymentConfigName: "api-canary" })).json.__type).toBe("DeploymentConfigDoesNotExistException");
        expect((await cd("CreateDeploymentConfig", { deploymentConfigName: "api-canary", computePlatform: "ECS", trafficRoutingConfig: { type: "TimeBasedCanary", timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } } })).status).toBe(200);
        const group = {
          applicationName: "api",
          deploymentGroupName: "g",
          serviceRoleArn: "arn:aws:iam::123456789012:role/cd",
          deploymentConfigName: "api-canary",
          alarmConfiguration: { enabled: true, alarms: [{ name: "api-5xx" }], ignorePollAlarmFailure: false },
          autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
          deploymentStyle: { deploymentOption: "WITH_TRAFFIC_CONTROL", deploymentType: "BLUE_GREEN" },
          ecsServices: [{ clusterName: "c", serviceName: "api" }],
          loadBalancerInfo: { targetGroupPairInfo: { targetGroups: [{ name: "blue" }, { name: "green" }], prodTrafficRoute: { listenerArns: ["l1"] }, testTrafficRoute: { listenerArns: ["l2"] } } },
        };
        expect((await cd("CreateDeploymentGroup", group)).json.deploymentGroupId).toEqual(expect.any(String));
        const info = (await cd("GetDeploymentGroup", { applicationName: "api", deploymentGroupName: "g" })).json.deploymentGroupInfo;
        expect(info).toEqual(expect.objectContaining({ ...group, computePlatform: "ECS", outdatedInstancesStrategy: "UPDATE" }));
        expect((await cd("DeleteDeploymentConfig", { deploymentConfigName: "api-canary" })).json.__type).toBe("DeploymentConfigInUseException");

        await cd("UpdateDeploymentGroup", { applicationName: "api", currentDeploymentGroupName: "g", alarmConfiguration: { enabled: true, alarms: [{ name: "api-latency" }] } });
        expect((await cd("GetDeploymentGroup", { applicationName: "api", deploymentGroupName: "g" })).json.deploymentGroupInfo).toEqual(
          expect.objectContaining({ alarmConfiguration: { enabled: true, alarms: [{ name: "api-latency" }] }, deploymentConfigName: "api-canary", ecsServices: group.ecsServices }),
        );

        const deployment = (await cd("CreateDeployment", { applicationName: "api", deploymentGroupName: "g", revision: { revisionType: "AppSpecContent" } })).json.deploymentId;
        expect((await cd("GetDeployment", { deploymentId: deployment })).json.deploymentInfo).toEqual(expect.objectContaining({ status: "Created", deploymentConfigName: "api-canary" }));

        const dumpKey = "CodeDeploy_20141006 (emulator shim codedeploy)";
        expect(JSON.parse((await emulatorGet(proxy.endpoint, "/moto-api/data.json")).body)[dumpKey]).toEqual({ Application: [expect.anything()], DeploymentGroup: [expect.anything()], DeploymentConfig: [expect.anything()] });
        await cd("DeleteDeploymentGroup", { applicationName: "api", deploymentGroupName: "g" });
        expect((await cd("GetDeploymentGroup", { applicationName: "api", deploymentGroupName: "g" })).json.__type).toBe("DeploymentGroupDoesNotExistException");
        await cd("DeleteDeploymentConfig", { deploymentConfigName: "api-canary" });
        await cd("DeleteApplication", { applicationName: "api" });
        expect((await cd("GetApplication", { applicationName: "api" })).json.__type).toBe("ApplicationDoesNotExistException");
        expect(JSON.parse((await emulatorGet(proxy.endpoint, "/moto-api/data.json")).body)[dumpKey]).toEqual({ Application: [], DeploymentGroup: [], DeploymentConfig: [] });
        expect(seen.every((s) => s.url === "/moto-api/data.json")).toBe(true); // CodeDeploy never reaches moto
      },
    );
  });
});

describe("emulator shim proxy: Query-protocol and JSON-to-Query shims (no moto)", () => {
  test("reads the signing name from the SigV4 credential scope", () => {
    expect(requestSigningName("AWS4-HMAC-SHA256 Credential=AKIA/20250101/us-east-1/rds/aws4_request, SignedHeaders=host")).toBe("rds");
    expect(requestSigningName(undefined)).toBe("");
  });

  test("toJsonWire: dates become epoch seconds, blobs base64, $metadata and undefined go", () => {
    expect(toJsonWire({ $metadata: { httpStatusCode: 200 }, At: new Date("2025-01-02T03:04:05.500Z"), Img: new Uint8Array([104, 105]), L: [{ N: 1, U: undefined }] })).toEqual({ At: 1735787045.5, Img: "aGk=", L: [{ N: 1 }] });
  });

  test("cloudwatch-json: an awsJson1.0 DescribeAlarms reaches moto as Query and comes back as JSON; a Query error keeps its code", async () => {
    await withProxy(
      ({ raw }) => {
        const p = form(raw);
        if (p.Action === "DescribeAlarms") {
          return xml(
            `<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><DescribeAlarmsResult><MetricAlarms><member><AlarmName>${p["AlarmNames.member.1"]}</AlarmName>` +
              `<StateValue>ALARM</StateValue><Period>60</Period><Threshold>1.5</Threshold><AlarmActions><member>arn:a</member></AlarmActions><StateUpdatedTimestamp>2025-01-02T03:04:05.000Z</StateUpdatedTimestamp></member></MetricAlarms>` +
              `<CompositeAlarms/></DescribeAlarmsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeAlarmsResponse>`,
          );
        }
        return xml(`<ErrorResponse><Error><Type>Sender</Type><Code>ResourceNotFound</Code><Message>no alarm ${p.AlarmName}</Message></Error><RequestId>r</RequestId></ErrorResponse>`, 404);
      },
      async (proxy, seen) => {
        const cw = new CloudWatchClient(sdk(proxy.endpoint));
        const r = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["api-5xx"] }));
        expect(r.MetricAlarms).toEqual([{ AlarmName: "api-5xx", StateValue: "ALARM", Period: 60, Threshold: 1.5, AlarmActions: ["arn:a"], StateUpdatedTimestamp: new Date("2025-01-02T03:04:05.000Z") }]);
        expect(seen[0].headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
        expect(seen[0].headers["x-amz-target"]).toBeUndefined();
        expect(form(seen[0].raw)).toEqual(expect.objectContaining({ Action: "DescribeAlarms", Version: "2010-08-01", "AlarmNames.member.1": "api-5xx" }));
        await expect(cw.send(new SetAlarmStateCommand({ AlarmName: "gone", StateValue: "ALARM", StateReason: "x" }))).rejects.toMatchObject({ name: "ResourceNotFound", message: "no alarm gone", $metadata: { httpStatusCode: 404 } });
        expect(proxy.hits).toEqual({ "cloudwatch-json": 2 });
        cw.destroy();
      },
    );
  });

  /** A stub RDS that has moto's bug when `forgets` (ModifyDBSubnetGroup drops the group). */
  function stubRds(forgets: boolean) {
    const groups = new Map<string, { description: string; subnets: string[]; tags: [string, string][] }>();
    const describe = (name: string) => {
      const g = groups.get(name)!;
      const subnets = g.subnets.map((s) => `<Subnet><SubnetIdentifier>${s}</SubnetIdentifier></Subnet>`).join("");
      return `<DBSubnetGroup><DBSubnetGroupName>${name}</DBSubnetGroupName><DBSubnetGroupDescription>${g.description}</DBSubnetGroupDescription><DBSubnetGroupArn>arn:aws:rds:us-east-1:123456789012:subgrp:${name}</DBSubnetGroupArn><Subnets>${subnets}</Subnets></DBSubnetGroup>`;
    };
    const notFound = (name: string) => xml(`<ErrorResponse><Error><Type>Sender</Type><Code>DBSubnetGroupNotFoundFault</Code><Message>${name} not found</Message></Error><RequestId>r</RequestId></ErrorResponse>`, 404);
    const list = (p: Record<string, string>, prefix: string) => Object.keys(p).filter((k) => k.startsWith(prefix)).sort().map((k) => p[k]);
    const handler: StubHandler = ({ raw }) => {
      const p = form(raw);
      const name = p.DBSubnetGroupName ?? p.ResourceName?.split(":").pop();
      const wrap = (action: string, inner: string) => xml(`<${action}Response xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`);
      switch (p.Action) {
        case "CreateDBSubnetGroup": {
          const tags = Object.keys(p).filter((k) => /^Tags\.Tag\.\d+\.Key$/.test(k)).map((k) => [p[k], p[k.replace(/Key$/, "Value")]] as [string, string]);
          groups.set(name, { description: p.DBSubnetGroupDescription, subnets: list(p, "SubnetIds."), tags });
          return wrap("CreateDBSubnetGroup", describe(name));
        }
        case "ModifyDBSubnetGroup": {
          const g = groups.get(name);
          if (!g) return notFound(name);
          g.subnets = list(p, "SubnetIds.");
          const out = wrap("ModifyDBSubnetGroup", describe(name));
          if (forgets) groups.delete(name);
          return out;
        }
        case "DescribeDBSubnetGroups":
          return groups.has(name) ? wrap("DescribeDBSubnetGroups", `<DBSubnetGroups>${describe(name)}</DBSubnetGroups>`) : notFound(name);
        case "ListTagsForResource":
          return wrap("ListTagsForResource", `<TagList>${(groups.get(name)?.tags ?? []).map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join("")}</TagList>`);
        default:
          return xml(`<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>`, 400);
      }
    };
    return handler;
  }

  test("rds-modify-db-subnet-group: a group the upstream forgets on modify is stored again with its new subnets, description and tags", async () => {
    await withProxy(stubRds(true), async (proxy, seen) => {
      const rds = new RDSClient(sdk(proxy.endpoint));
      await rds.send(new CreateDBSubnetGroupCommand({ DBSubnetGroupName: "db", DBSubnetGroupDescription: "d", SubnetIds: ["s1", "s2"], Tags: [{ Key: "Project", Value: "fargate" }] }));
      const modified = await rds.send(new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: "db", SubnetIds: ["s1", "s2", "s3"] }));
      expect(modified.DBSubnetGroup?.Subnets?.map((x) => x.SubnetIdentifier)).toEqual(["s1", "s2", "s3"]);
      const got = (await rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: "db" }))).DBSubnetGroups?.[0];
      expect(got).toEqual(expect.objectContaining({ DBSubnetGroupName: "db", DBSubnetGroupDescription: "d", DBSubnetGroupArn: "arn:aws:rds:us-east-1:123456789012:subgrp:db" }));
      expect(got?.Subnets?.map((x) => x.SubnetIdentifier)).toEqual(["s1", "s2", "s3"]);
      expect((await rds.send(new ListTagsForResourceCommand({ ResourceName: got!.DBSubnetGroupArn! }))).TagList).toEqual([{ Key: "Project", Value: "fargate" }]);
      expect(seen.map((s) => form(s.raw).Action)).toEqual(["CreateDBSubnetGroup", "DescribeDBSubnetGroups", "ListTagsForResource", "ModifyDBSubnetGroup", "DescribeDBSubnetGroups", "CreateDBSubnetGroup", "DescribeDBSubnetGroups", "ListTagsForResource"]);
      expect(proxy.hits).toEqual({ "rds-modify-db-subnet-group": 1 });
      rds.destroy();
    });
  });

  test("rds-modify-db-subnet-group: an upstream that keeps the modified group is left alone; a missing group gets the upstream's own error", async () => {
    await withProxy(stubRds(false), async (proxy, seen) => {
      const rds = new RDSClient(sdk(proxy.endpoint));
      await rds.send(new CreateDBSubnetGroupCommand({ DBSubnetGroupName: "db", DBSubnetGroupDescription: "d", SubnetIds: ["s1"] }));
      await rds.send(new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: "db", SubnetIds: ["s1", "s2"] }));
      expect(seen.map((s) => form(s.raw).Action).filter((a) => a === "CreateDBSubnetGroup")).toHaveLength(1);
      await expect(rds.send(new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: "nope", SubnetIds: ["s1"] }))).rejects.toMatchObject({ name: "DBSubnetGroupNotFoundFault" });
      rds.destroy();
    });
  });
});

describe("emulator shim proxy: the shims that keep a re-plan clean (no moto)", () => {
  test("ecs-service-fields: what CreateService and UpdateService were given comes back from DescribeServices; moto's errors pass unchanged", async () => {
    const arn = "arn:aws:ecs:us-east-1:123456789012:service/c/api";
    // A stub with moto's bug: the service it answers never has the four fields.
    const service = { serviceArn: arn, serviceName: "api", launchType: "FARGATE", desiredCount: 1 };
    await withProxy(
      ({ target, body }) => {
        if (target.endsWith(".DescribeServices")) {
          return body.cluster === "gone" ? { status: 400, body: { __type: "ClusterNotFoundException", message: "Cluster not found." } } : { body: { services: [service], failures: [] } };
        }
        return { body: { service } };
      },
      async (proxy, seen) => {
        const ecs = (op: string, input: unknown) => call(proxy, "ecs", `AmazonEC2ContainerServiceV20141113.${op}`, input);
        const given = { enableECSManagedTags: true, healthCheckGracePeriodSeconds: 60, availabilityZoneRebalancing: "DISABLED", enableExecuteCommand: false };
        const created = await ecs("CreateService", { cluster: "c", serviceName: "api", launchType: "FARGATE", capacityProviderStrategy: [], ...given });
        expect(created.json.service).toEqual({ ...service, ...given });
        expect(seen[0].body).toEqual(expect.objectContaining(given)); // moto gets the call as sent
        expect((await ecs("DescribeServices", { cluster: "c", services: ["api"] })).json.services).toEqual([{ ...service, ...given }]);
        // An update changes only what it names; the strategy and launch type stay moto's.
        await ecs("UpdateService", { cluster: "c", service: "api", healthCheckGracePeriodSeconds: 90 });
        const after = (await ecs("DescribeServices", { cluster: "c", services: ["api"] })).json.services[0];
        expect(after).toEqual({ ...service, ...given, healthCheckGracePeriodSeconds: 90 });
        const gone = await ecs("DescribeServices", { cluster: "gone", services: ["api"] });
        expect([gone.status, gone.json]).toEqual([400, { __type: "ClusterNotFoundException", message: "Cluster not found." }]);
        await ecs("DeleteService", { cluster: "c", service: "api", force: true });
        expect((await ecs("DescribeServices", { cluster: "c", services: ["api"] })).json.services).toEqual([service]);
      },
    );
  });

  test("ec2-referenced-rule-descriptions: a referenced-group rule gets the description it was authorized with (escaped), by rule id", async () => {
    const ns = `xmlns="http://ec2.amazonaws.com/doc/2016-11-15"`;
    const ruleXml = (id: string, inner: string) => `<item><securityGroupRuleId>${id}</securityGroupRuleId><groupId>sg-ecs</groupId><isEgress>false</isEgress>${inner}<tagSet><item><key>Name</key><value>x</value></item></tagSet></item>`;
    const referenced = (id: string, port: number) => ruleXml(id, `<ipProtocol>tcp</ipProtocol><fromPort>${port}</fromPort><toPort>${port}</toPort><referencedGroupInfo><groupId>sg-alb</groupId><userId>123456789012</userId></referencedGroupInfo>`);
    const cidr = ruleXml("sgr-cidr", `<ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort><cidrIpv4>0.0.0.0/0</cidrIpv4><description>from the internet</description>`);
    await withProxy(
      ({ raw }) => {
        const p = form(raw);
        if (p.Action === "AuthorizeSecurityGroupIngress") {
          if (p.GroupId === "sg-gone") return xml(`<Response><Errors><Error><Code>InvalidGroup.NotFound</Code><Message>no sg-gone</Message></Error></Errors></Response>`, 400);
          return xml(`<AuthorizeSecurityGroupIngressResponse ${ns}><return>true</return><securityGroupRuleSet>${referenced("sgr-a", 8000)}${referenced("sgr-b", 9000)}</securityGroupRuleSet></AuthorizeSecurityGroupIngressResponse>`);
        }
        return xml(`<DescribeSecurityGroupRulesResponse ${ns}><securityGroupRuleSet>${referenced("sgr-a", 8000)}${cidr}${referenced("sgr-other", 7000)}</securityGroupRuleSet></DescribeSecurityGroupRulesResponse>`);
      },
      async (proxy) => {
        const ec2 = new EC2Client(sdk(proxy.endpoint));
        try {
          const created = await ec2.send(
            new AuthorizeSecurityGroupIngressCommand({
              GroupId: "sg-ecs",
              IpPermissions: [
                { IpProtocol: "tcp", FromPort: 8000, ToPort: 8000, UserIdGroupPairs: [{ GroupId: "sg-alb", Description: "App port 8000 from the ALB & <only>" }] },
                { IpProtocol: "6", FromPort: 9000, ToPort: 9000, UserIdGroupPairs: [{ GroupId: "sg-alb", Description: "metrics" }] },
              ],
            }),
          );
          expect(created.SecurityGroupRules?.map((r) => [r.SecurityGroupRuleId, r.Description])).toEqual([["sgr-a", "App port 8000 from the ALB & <only>"], ["sgr-b", "metrics"]]);
          const rules = (await ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: ["sgr-a"] }))).SecurityGroupRules ?? [];
          expect(rules.map((r) => [r.SecurityGroupRuleId, r.Description, r.Tags?.length])).toEqual([
            ["sgr-a", "App port 8000 from the ALB & <only>", 1],
            ["sgr-cidr", "from the internet", 1], // moto's own description stays
            ["sgr-other", undefined, 1], // a rule the shim never saw authorized
          ]);
          await expect(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: "sg-gone", IpPermissions: [{ IpProtocol: "tcp", FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: "sg-alb", Description: "d" }] }] }))).rejects.toMatchObject({
            name: "InvalidGroup.NotFound",
            message: "no sg-gone",
          });
        } finally {
          ec2.destroy();
        }
      },
    );
    expect(withRuleDescriptions("<x/>", () => "never")).toBe("<x/>");
  });

  test("rds-db-parameter-source: the parameters moto holds are Source user; a Source filter other than user answers none; errors pass unchanged", async () => {
    const answer = (inner: string) =>
      xml(`<DescribeDBParametersResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBParametersResult><Parameters>${inner}</Parameters></DescribeDBParametersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeDBParametersResponse>`);
    await withProxy(
      ({ raw }) => {
        const p = form(raw);
        if (p.DBParameterGroupName === "gone") return xml(`<ErrorResponse><Error><Type>Sender</Type><Code>DBParameterGroupNotFound</Code><Message>gone not found</Message></Error><RequestId>r</RequestId></ErrorResponse>`, 404);
        return answer(`<Parameter><ParameterName>rds.force_ssl</ParameterName><ParameterValue>1</ParameterValue><ApplyMethod>immediate</ApplyMethod></Parameter><Parameter><ParameterName>x</ParameterName><ParameterValue>2</ParameterValue><Source>system</Source></Parameter>`);
      },
      async (proxy, seen) => {
        const rds = new RDSClient(sdk(proxy.endpoint));
        try {
          const all = (await rds.send(new DescribeDBParametersCommand({ DBParameterGroupName: "pg" }))).Parameters;
          expect(all?.map((x) => [x.ParameterName, x.ParameterValue, x.Source])).toEqual([["rds.force_ssl", "1", "user"], ["x", "2", "system"]]);
          expect((await rds.send(new DescribeDBParametersCommand({ DBParameterGroupName: "pg", Source: "user" }))).Parameters?.map((x) => x.Source)).toEqual(["user", "system"]);
          expect((await rds.send(new DescribeDBParametersCommand({ DBParameterGroupName: "pg", Source: "engine-default" }))).Parameters ?? []).toEqual([]);
          expect(form(seen[2].raw).Source).toBe("engine-default"); // moto still gets the call
          await expect(rds.send(new DescribeDBParametersCommand({ DBParameterGroupName: "gone" }))).rejects.toMatchObject({ name: "DBParameterGroupNotFoundFault", message: "gone not found" });
        } finally {
          rds.destroy();
        }
      },
    );
  });

  test("s3-eventbridge-notification: EventBridge put on a bucket comes back from GetBucketNotificationConfiguration; nothing else of S3 is touched", async () => {
    await withProxy(
      ({ url, raw }) => {
        if (url.startsWith("/missing")) return { status: 404, body: "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>", headers: { "content-type": "application/xml" } };
        if (raw.length) return { body: "", headers: { "content-type": "text/html" } }; // a PUT, as moto answers it
        return { body: `<?xml version="1.0" encoding="utf-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>`, headers: { "content-type": "application/xml" } };
      },
      async (proxy) => {
        const s3 = new S3Client({ ...sdk(proxy.endpoint), forcePathStyle: true });
        try {
          const get = (Bucket: string) => s3.send(new GetBucketNotificationConfigurationCommand({ Bucket }));
          expect((await get("logs")).EventBridgeConfiguration).toBeUndefined();
          await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: "logs", NotificationConfiguration: { EventBridgeConfiguration: {} } }));
          expect((await get("logs")).EventBridgeConfiguration).toEqual({});
          expect((await get("other")).EventBridgeConfiguration).toBeUndefined();
          await expect(get("missing")).rejects.toMatchObject({ name: "NoSuchBucket" });
          await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: "logs", NotificationConfiguration: {} }));
          expect((await get("logs")).EventBridgeConfiguration).toBeUndefined();
          const hits = proxy.hits["s3-eventbridge-notification"];
          await s3.send(new PutObjectCommand({ Bucket: "logs", Key: "notification", Body: "x" }));
          expect(proxy.hits["s3-eventbridge-notification"]).toBe(hits);
        } finally {
          s3.destroy();
        }
      },
    );
  });
});

// ---------------------------------------------------------------------------------------
// Probes of the pinned moto: each asserts the bug its shim repairs still exists
// ---------------------------------------------------------------------------------------

const MOTO = process.env.MOTO_SERVER ?? venvBin("moto_server");
const REQUIRED = process.env.REQUIRE_MOTO === "1";

/** What a failed probe means. */
const fixed = (shim: string, what: string) => `moto (${MOTO}) no longer has this bug: ${what}. Delete the "${shim}" shim from scripts/emulator-shims.ts and its probe here, then run npm run test:e2e.`;

/** One Query-protocol call (form-encoded) straight to an endpoint; resolves with status and body. */
function queryCall(endpoint: string, signingName: string, params: Record<string, string>): Promise<{ status: number; body: string }> {
  const body = new URLSearchParams(params).toString();
  return new Promise((resolve, reject) => {
    const req = https.request(`${endpoint}/`, {
      method: "POST",
      rejectUnauthorized: false,
      agent: false,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": Buffer.byteLength(body),
        authorization: `AWS4-HMAC-SHA256 Credential=AKIAEMULATOR00000000/20250101/us-east-1/${signingName}/aws4_request, SignedHeaders=host, Signature=0`,
      },
    }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** One IAM Query-protocol call, for the roles other calls need; resolves with the status. */
const iamCall = (endpoint: string, params: Record<string, string>) => queryCall(endpoint, "iam", { ...params, Version: "2010-05-08" }).then((r) => r.status);

interface Moto {
  readonly raw: string;
  readonly proxy: ShimProxy;
}

/** One probe per shim id: the raw bug on moto, then the same calls through the shim. */
const PROBES: Record<string, (m: Moto) => Promise<void>> = {
  "appautoscaling-tags": async ({ raw, proxy }) => {
    const arn = "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/probe";
    const r = await awsJsonCall(raw, "application-autoscaling", "AnyScaleFrontendService.ListTagsForResource", { ResourceARN: arn });
    expect({ status: r.status, why: fixed("appautoscaling-tags", "ListTagsForResource answers") }).toEqual({ status: 500, why: expect.any(String) });
    const shimmed = await awsJsonCall(proxy.endpoint, "application-autoscaling", "AnyScaleFrontendService.ListTagsForResource", { ResourceARN: arn });
    expect(shimmed.json).toEqual({ Tags: {} });
  },

  "codepipeline-timestamps": async ({ raw, proxy }) => {
    const pipeline = {
      name: "probe-pipeline",
      roleArn: "arn:aws:iam::123456789012:role/probe",
      artifactStore: { type: "S3", location: "probe-bucket" },
      stages: [
        { name: "Source", actions: [{ name: "Source", actionTypeId: { category: "Source", owner: "AWS", provider: "S3", version: "1" }, configuration: { S3Bucket: "b", S3ObjectKey: "k" }, outputArtifacts: [{ name: "src" }] }] },
        { name: "Approve", actions: [{ name: "Approve", actionTypeId: { category: "Approval", owner: "AWS", provider: "Manual", version: "1" } }] },
      ],
    };
    // moto checks that the pipeline's role exists and trusts codepipeline.amazonaws.com.
    const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "codepipeline.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    expect(await iamCall(raw, { Action: "CreateRole", RoleName: "probe", AssumeRolePolicyDocument: trust })).toBe(200);
    const created = await awsJsonCall(raw, "codepipeline", "CodePipeline_20150709.CreatePipeline", { pipeline });
    expect([created.status, created.body.slice(0, 200)]).toEqual([200, expect.any(String)]);
    const got = await awsJsonCall(raw, "codepipeline", "CodePipeline_20150709.GetPipeline", { name: pipeline.name });
    expect({ created: typeof got.json?.metadata?.created, why: fixed("codepipeline-timestamps", "GetPipeline metadata.created is no longer a string") }).toEqual({ created: "string", why: expect.any(String) });
    const shimmed = await awsJsonCall(proxy.endpoint, "codepipeline", "CodePipeline_20150709.GetPipeline", { name: pipeline.name });
    expect(typeof shimmed.json.metadata.created).toBe("number");
    expect(Math.abs(shimmed.json.metadata.created - Date.now() / 1000)).toBeLessThan(600);
    await awsJsonCall(raw, "codepipeline", "CodePipeline_20150709.DeletePipeline", { name: pipeline.name });
  },

  "codebuild-projects": async ({ raw, proxy }) => {
    const project = {
      name: "probe-build",
      source: { type: "CODEPIPELINE", buildspec: "version: 0.2" },
      artifacts: { type: "CODEPIPELINE" },
      environment: { type: "LINUX_CONTAINER", computeType: "BUILD_GENERAL1_SMALL", image: "aws/codebuild/standard:7.0" },
      serviceRole: "arn:aws:iam::123456789012:role/probe",
      encryptionKey: "arn:aws:kms:us-east-1:123456789012:key/probe",
    };
    const r = await awsJsonCall(raw, "codebuild", "CodeBuild_20161006.CreateProject", project);
    expect({ status: r.status, message: r.json?.message, why: fixed("codebuild-projects", "CreateProject accepts a CODEPIPELINE source without location") }).toEqual({
      status: 400,
      message: "Project source location is required",
      why: expect.any(String),
    });
    const located = await awsJsonCall(raw, "codebuild", "CodeBuild_20161006.CreateProject", { ...project, source: { ...project.source, location: "x" }, artifacts: { ...project.artifacts, location: "x" } });
    expect({ key: located.json?.project?.encryptionKey, why: fixed("codebuild-projects", "CreateProject keeps encryptionKey") }).toEqual({ key: expect.stringMatching(/alias\/aws\/s3$/), why: expect.any(String) });
    const update = await awsJsonCall(raw, "codebuild", "CodeBuild_20161006.UpdateProject", { name: project.name, description: "d" });
    expect({ status: update.status, why: fixed("codebuild-projects", "UpdateProject is implemented") }).toEqual({ status: 500, why: expect.any(String) });
    await awsJsonCall(raw, "codebuild", "CodeBuild_20161006.DeleteProject", { name: project.name });

    const shimmed = await awsJsonCall(proxy.endpoint, "codebuild", "CodeBuild_20161006.CreateProject", project);
    expect(shimmed.status).toBe(200);
    expect(shimmed.json.project).toEqual(expect.objectContaining({ source: project.source, artifacts: project.artifacts, encryptionKey: project.encryptionKey }));
    const updated = await awsJsonCall(proxy.endpoint, "codebuild", "CodeBuild_20161006.UpdateProject", { name: project.name, description: "edited" });
    expect(updated.json.project).toEqual(expect.objectContaining({ description: "edited", source: project.source, encryptionKey: project.encryptionKey, arn: shimmed.json.project.arn }));
    expect((await awsJsonCall(proxy.endpoint, "codebuild", "CodeBuild_20161006.DeleteProject", { name: project.name })).status).toBe(200);
  },

  "codestar-connections": async ({ raw, proxy }) => {
    const r = await awsJsonCall(raw, "codestar-connections", "CodeStar_connections_20191201.CreateConnection", { ConnectionName: "probe", ProviderType: "Bitbucket" });
    expect({ failed: r.status >= 400 && !r.json?.ConnectionArn, why: fixed("codestar-connections", `CreateConnection answers ${r.status} ${r.body.slice(0, 80)}`) }).toEqual({ failed: true, why: expect.any(String) });
    const shimmed = await awsJsonCall(proxy.endpoint, "codestar-connections", "CodeStar_connections_20191201.CreateConnection", { ConnectionName: "probe", ProviderType: "Bitbucket" });
    expect(shimmed.json.ConnectionArn).toMatch(/:connection\//);
    await awsJsonCall(proxy.endpoint, "codestar-connections", "CodeStar_connections_20191201.DeleteConnection", { ConnectionArn: shimmed.json.ConnectionArn });
  },

  codedeploy: async ({ raw, proxy }) => {
    const cd = (endpoint: string, op: string, input: unknown) => awsJsonCall(endpoint, "codedeploy", `CodeDeploy_20141006.${op}`, input);
    expect((await cd(raw, "CreateApplication", { applicationName: "probe", computePlatform: "ECS" })).status).toBe(200);
    const group = { applicationName: "probe", deploymentGroupName: "probe", serviceRoleArn: "arn:aws:iam::123456789012:role/probe", alarmConfiguration: { enabled: true, alarms: [{ name: "a" }] } };
    expect((await cd(raw, "CreateDeploymentGroup", group)).status).toBe(200);
    const info = (await cd(raw, "GetDeploymentGroup", { applicationName: "probe", deploymentGroupName: "probe" })).json?.deploymentGroupInfo;
    const missing = {
      UpdateDeploymentGroup: (await cd(raw, "UpdateDeploymentGroup", { applicationName: "probe", currentDeploymentGroupName: "probe", serviceRoleArn: group.serviceRoleArn })).status,
      DeleteDeploymentGroup: (await cd(raw, "DeleteDeploymentGroup", { applicationName: "probe", deploymentGroupName: "probe" })).status,
      DeleteApplication: (await cd(raw, "DeleteApplication", { applicationName: "probe" })).status,
      UpdateApplication: (await cd(raw, "UpdateApplication", { applicationName: "probe", newApplicationName: "probe2" })).status,
      CreateDeploymentConfig: (await cd(raw, "CreateDeploymentConfig", { deploymentConfigName: "probe", computePlatform: "ECS", trafficRoutingConfig: { type: "AllAtOnce" } })).status,
    };
    // All of them missing is why the shim holds the whole CodeDeploy state. Once moto has
    // them, the shim goes (keeping at most an alarmConfiguration patch, if that is still open).
    expect({ missing, why: fixed("codedeploy", "some of CodeDeploy's update/delete/config operations are implemented") }).toEqual({
      missing: { UpdateDeploymentGroup: 500, DeleteDeploymentGroup: 500, DeleteApplication: 500, UpdateApplication: 500, CreateDeploymentConfig: 500 },
      why: expect.any(String),
    });
    expect({ alarms: info?.alarmConfiguration, why: fixed("codedeploy", "GetDeploymentGroup returns alarmConfiguration") }).toEqual({ alarms: {}, why: expect.any(String) });

    // Through the shim the full lifecycle works (and never reaches moto).
    expect((await cd(proxy.endpoint, "CreateApplication", { applicationName: "probe", computePlatform: "ECS" })).status).toBe(200);
    expect((await cd(proxy.endpoint, "CreateDeploymentGroup", group)).status).toBe(200);
    expect((await cd(proxy.endpoint, "GetDeploymentGroup", { applicationName: "probe", deploymentGroupName: "probe" })).json.deploymentGroupInfo.alarmConfiguration).toEqual(group.alarmConfiguration);
    expect((await cd(proxy.endpoint, "DeleteDeploymentGroup", { applicationName: "probe", deploymentGroupName: "probe" })).status).toBe(200);
    expect((await cd(proxy.endpoint, "DeleteApplication", { applicationName: "probe" })).status).toBe(200);
  },

  "cloudwatch-json": async ({ raw, proxy }) => {
    const r = await awsJsonCall(raw, "monitoring", "GraniteServiceVersion20100801.DescribeAlarms", {}, "us-east-1", "1.0");
    expect({ status: r.status, html: /^<!doctype html/i.test(r.body), why: fixed("cloudwatch-json", `DescribeAlarms over awsJson1.0 answers ${r.status} ${r.body.slice(0, 80)}`) }).toEqual({ status: 500, html: true, why: expect.any(String) });
    // Through the shim, the pinned SDK (JSON protocol) reads and sets an alarm moto holds.
    const put = await queryCall(raw, "monitoring", { Action: "PutMetricAlarm", Version: "2010-08-01", AlarmName: "probe", Namespace: "p", MetricName: "m", Statistic: "Sum", Period: "60", EvaluationPeriods: "1", Threshold: "1", ComparisonOperator: "GreaterThanThreshold" });
    expect(put.status).toBe(200);
    const cw = new CloudWatchClient(sdk(proxy.endpoint));
    try {
      const before = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["probe"] }))).MetricAlarms ?? [];
      expect(before.map((a) => [a.AlarmName, a.Period, a.StateUpdatedTimestamp instanceof Date])).toEqual([["probe", 60, true]]);
      await cw.send(new SetAlarmStateCommand({ AlarmName: "probe", StateValue: "ALARM", StateReason: "probe" }));
      expect((await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["probe"] }))).MetricAlarms?.[0].StateValue).toBe("ALARM");
      await expect(cw.send(new SetAlarmStateCommand({ AlarmName: "no-such-alarm", StateValue: "OK", StateReason: "probe" }))).rejects.toMatchObject({ name: "ResourceNotFound" });
    } finally {
      cw.destroy();
      await queryCall(raw, "monitoring", { Action: "DeleteAlarms", Version: "2010-08-01", "AlarmNames.member.1": "probe" });
    }
  },

  "rds-modify-db-subnet-group": async ({ raw, proxy }) => {
    const ec2 = new EC2Client(sdk(raw));
    const direct = new RDSClient(sdk(raw));
    const shimmed = new RDSClient(sdk(proxy.endpoint));
    try {
      const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.77.0.0/16" }))).Vpc!.VpcId!;
      const subnets: string[] = [];
      for (const [i, az] of ["a", "b", "c"].entries()) subnets.push((await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: `10.77.${i}.0/24`, AvailabilityZone: `us-east-1${az}` }))).Subnet!.SubnetId!);
      const lookup = (client: RDSClient, name: string) => client.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name })).then((r) => r.DBSubnetGroups?.[0], (e: Error) => e.name);
      await direct.send(new CreateDBSubnetGroupCommand({ DBSubnetGroupName: "probe-raw", DBSubnetGroupDescription: "d", SubnetIds: subnets.slice(0, 2) }));
      await direct.send(new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: "probe-raw", SubnetIds: subnets }));
      expect({ after: await lookup(direct, "probe-raw"), why: fixed("rds-modify-db-subnet-group", "DescribeDBSubnetGroups finds a group after ModifyDBSubnetGroup") }).toEqual({ after: "DBSubnetGroupNotFoundFault", why: expect.any(String) });

      await shimmed.send(new CreateDBSubnetGroupCommand({ DBSubnetGroupName: "probe-shim", DBSubnetGroupDescription: "d", SubnetIds: subnets.slice(0, 2), Tags: [{ Key: "Project", Value: "probe" }] }));
      await shimmed.send(new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: "probe-shim", SubnetIds: subnets }));
      const after = (await lookup(shimmed, "probe-shim")) as { Subnets?: { SubnetIdentifier?: string }[]; DBSubnetGroupArn?: string };
      expect(after.Subnets?.map((x) => x.SubnetIdentifier).sort()).toEqual([...subnets].sort());
      expect((await shimmed.send(new ListTagsForResourceCommand({ ResourceName: after.DBSubnetGroupArn! }))).TagList).toEqual([{ Key: "Project", Value: "probe" }]);
    } finally {
      for (const c of [ec2, direct, shimmed]) c.destroy();
    }
  },
  "ecs-service-fields": async ({ raw, proxy }) => {
    const ecs = (endpoint: string, op: string, input: unknown) => awsJsonCall(endpoint, "ecs", `AmazonEC2ContainerServiceV20141113.${op}`, input);
    expect((await ecs(raw, "CreateCluster", { clusterName: "probe" })).status).toBe(200);
    const family = { family: "probe", requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", cpu: "256", memory: "512", containerDefinitions: [{ name: "app", image: "nginx", essential: true }] };
    expect((await ecs(raw, "RegisterTaskDefinition", family)).status).toBe(200);
    const given = { enableECSManagedTags: true, healthCheckGracePeriodSeconds: 60, availabilityZoneRebalancing: "ENABLED", enableExecuteCommand: true };
    const service = (name: string) => ({ cluster: "probe", serviceName: name, taskDefinition: "probe", desiredCount: 0, launchType: "FARGATE", ...given });
    expect((await ecs(raw, "CreateService", service("probe-raw"))).status).toBe(200);
    const described = (await ecs(raw, "DescribeServices", { cluster: "probe", services: ["probe-raw"] })).json?.services?.[0] ?? {};
    const kept = Object.fromEntries(Object.keys(given).map((k) => [k, described[k]]));
    expect({ kept, why: fixed("ecs-service-fields", `DescribeServices returns fields CreateService was given: ${JSON.stringify(kept)}`) }).toEqual({
      kept: { enableECSManagedTags: undefined, healthCheckGracePeriodSeconds: undefined, availabilityZoneRebalancing: undefined, enableExecuteCommand: undefined },
      why: expect.any(String),
    });
    expect((await ecs(proxy.endpoint, "CreateService", service("probe-shim"))).status).toBe(200);
    expect((await ecs(proxy.endpoint, "DescribeServices", { cluster: "probe", services: ["probe-shim"] })).json.services[0]).toEqual(expect.objectContaining({ ...given, launchType: "FARGATE" }));
    for (const name of ["probe-raw", "probe-shim"]) await ecs(proxy.endpoint, "DeleteService", { cluster: "probe", service: name, force: true });
    await ecs(raw, "DeleteCluster", { cluster: "probe" });
  },

  "ec2-referenced-rule-descriptions": async ({ raw, proxy }) => {
    const direct = new EC2Client(sdk(raw));
    const shimmed = new EC2Client(sdk(proxy.endpoint));
    try {
      const vpc = (await direct.send(new CreateVpcCommand({ CidrBlock: "10.78.0.0/16" }))).Vpc!.VpcId!;
      const group = async (name: string) => (await direct.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpc }))).GroupId!;
      const [alb, ecs] = [await group("probe-alb"), await group("probe-ecs")];
      const authorize = async (client: EC2Client, port: number) =>
        (await client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: ecs, IpPermissions: [{ IpProtocol: "tcp", FromPort: port, ToPort: port, UserIdGroupPairs: [{ GroupId: alb, Description: `port ${port} from the ALB` }] }] }))).SecurityGroupRules![0].SecurityGroupRuleId!;
      const describe = async (client: EC2Client, id: string) => (await client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [id] }))).SecurityGroupRules?.[0];
      const rawRule = await describe(direct, await authorize(direct, 8000));
      expect({ referenced: rawRule?.ReferencedGroupInfo?.GroupId, description: rawRule?.Description, why: fixed("ec2-referenced-rule-descriptions", "DescribeSecurityGroupRules returns the description of a referenced-group rule") }).toEqual({
        referenced: alb,
        description: undefined,
        why: expect.any(String),
      });
      expect((await describe(shimmed, await authorize(shimmed, 9000)))?.Description).toBe("port 9000 from the ALB");
    } finally {
      for (const c of [direct, shimmed]) c.destroy();
    }
  },

  "rds-db-parameter-source": async ({ raw, proxy }) => {
    const direct = new RDSClient(sdk(raw));
    const shimmed = new RDSClient(sdk(proxy.endpoint));
    try {
      await direct.send(new CreateDBParameterGroupCommand({ DBParameterGroupName: "probe-pg", DBParameterGroupFamily: "postgres16", Description: "probe" }));
      await direct.send(new ModifyDBParameterGroupCommand({ DBParameterGroupName: "probe-pg", Parameters: [{ ParameterName: "rds.force_ssl", ParameterValue: "1", ApplyMethod: "immediate" }] }));
      const read = (client: RDSClient, Source?: string) => client.send(new DescribeDBParametersCommand({ DBParameterGroupName: "probe-pg", Source })).then((r) => (r.Parameters ?? []).map((p) => [p.ParameterName, p.Source]));
      const bug = { user: await read(direct, "user"), system: await read(direct, "system") };
      expect({ bug, why: fixed("rds-db-parameter-source", `DescribeDBParameters answers a Source or filters by it: ${JSON.stringify(bug)}`) }).toEqual({
        bug: { user: [["rds.force_ssl", undefined]], system: [["rds.force_ssl", undefined]] },
        why: expect.any(String),
      });
      expect({ all: await read(shimmed), user: await read(shimmed, "user"), system: await read(shimmed, "system") }).toEqual({ all: [["rds.force_ssl", "user"]], user: [["rds.force_ssl", "user"]], system: [] });
    } finally {
      for (const c of [direct, shimmed]) c.destroy();
    }
  },

  "s3-eventbridge-notification": async ({ raw, proxy }) => {
    const direct = new S3Client({ ...sdk(raw), forcePathStyle: true });
    const shimmed = new S3Client({ ...sdk(proxy.endpoint), forcePathStyle: true });
    try {
      for (const [client, Bucket] of [[direct, "probe-eventbridge-raw"], [shimmed, "probe-eventbridge-shim"]] as const) {
        await client.send(new CreateBucketCommand({ Bucket }));
        await client.send(new PutBucketNotificationConfigurationCommand({ Bucket, NotificationConfiguration: { EventBridgeConfiguration: {} } }));
      }
      const got = await direct.send(new GetBucketNotificationConfigurationCommand({ Bucket: "probe-eventbridge-raw" }));
      expect({ eventBridge: got.EventBridgeConfiguration, why: fixed("s3-eventbridge-notification", "GetBucketNotificationConfiguration returns EventBridgeConfiguration") }).toEqual({ eventBridge: undefined, why: expect.any(String) });
      expect((await shimmed.send(new GetBucketNotificationConfigurationCommand({ Bucket: "probe-eventbridge-shim" }))).EventBridgeConfiguration).toEqual({});
    } finally {
      for (const c of [direct, shimmed]) c.destroy();
    }
  },
};

test("every shim has exactly one probe", () => {
  expect(Object.keys(PROBES).sort()).toEqual(defaultShims().map((s) => s.id).sort());
});

if (!fs.existsSync(MOTO)) {
  if (REQUIRED) {
    test("moto probes: the pinned moto_server is required (REQUIRE_MOTO=1)", () => {
      throw new Error(`REQUIRE_MOTO=1 but ${MOTO} is missing: run npm run tools:install`);
    });
  } else {
    const banner = "!".repeat(100);
    console.warn(
      `${banner}\n!! EMULATOR SHIM PROBES SKIPPED: ${MOTO} is missing, so nobody checked that moto still has the bugs the shims repair.\n` +
        `!! Run npm run tools:install (REQUIRE_MOTO=1 makes this a failure).\n${banner}`,
    );
    test.skip(`moto probes SKIPPED: ${MOTO} is missing`, () => undefined);
  }
} else {
  describe(`moto probes (${path.relative(process.cwd(), MOTO) || MOTO}): the bugs the shims repair still exist`, () => {
    let child: ChildProcess | undefined;
    let moto: Moto | undefined;

    beforeAll(async () => {
      const port = await freePort();
      const raw = `https://127.0.0.1:${port}`;
      child = spawn(MOTO, ["-H", "127.0.0.1", "-p", String(port), "-s"], { stdio: "ignore", env: { ...process.env, HTTP_PROXY: "http://127.0.0.1:9", HTTPS_PROXY: "http://127.0.0.1:9", NO_PROXY: "127.0.0.1,localhost" } });
      let exited = false;
      child.on("exit", () => (exited = true));
      await waitForEmulator(raw, () => !exited, 45_000);
      moto = { raw, proxy: await startShimProxy({ upstream: raw }) };
    }, 60_000);

    afterAll(async () => {
      await moto?.proxy.close();
      child?.kill("SIGKILL");
    });

    for (const [id, probe] of Object.entries(PROBES)) {
      test(`${id}: moto still has the bug, the shim repairs it`, () => probe(moto!), 60_000);
    }
  });
}
