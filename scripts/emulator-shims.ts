/**
 * Emulator shims: a small HTTPS proxy on 127.0.0.1 in front of moto_server that repairs the
 * few moto gaps hashicorp/aws 5.100.0 trips on. `scripts/emulator.ts` starts it for every
 * emulator (`npm run test:e2e`, `npm run local:up`) and hands out the proxy's address, so
 * every client (provider, S3 backend, SDK spot checks) goes through it. Everything the
 * shims do not name is forwarded to moto byte for byte (moto still sees TLS, so
 * aws:SecureTransport holds exactly as before).
 *
 * Rules for a shim (the project brief: "each patch names the bug and has a test that fails
 * once moto fixes it"):
 * - it names the moto bug (file/function in moto's source) in `bug`;
 * - test/e2e/emulator-shims.test.ts has a probe that asserts the raw moto bug still
 *   happens on the pinned moto (requirements-tools.txt); when moto fixes it the probe fails
 *   and the shim is deleted;
 * - it touches only the operations it names (JSON-protocol `X-Amz-Target` values, Query
 *   `Action`s, REST `<METHOD> ?<query key>` routes), and passes moto's errors through unchanged.
 *
 * The state a shim serves itself (CodeStar Connections, CodeDeploy) is added to moto's
 * `/moto-api/data.json` under "<service> (emulator shim)", so the e2e's leftover check
 * sees it like any moto model.
 *
 * CLI (the detached emulator of `npm run local:up`):
 *   node dist/scripts/emulator-shims.js --upstream https://127.0.0.1:<moto port> --port <port>
 */
import { randomUUID, generateKeyPairSync, randomBytes, sign } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { CloudWatchClient, DescribeAlarmsCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { CreateDBSubnetGroupCommand, DBSubnetGroup, DescribeDBSubnetGroupsCommand, ListTagsForResourceCommand, RDSClient } from "@aws-sdk/client-rds";
// The Query protocol of the SDK the CloudWatch client is built on (cloudwatch-json replays calls with it).
import { AwsQueryProtocol } from "@aws-sdk/core/protocols";

/** moto's account (every emulated resource lives in it). */
export const EMULATOR_ACCOUNT = "123456789012";

// ---------------------------------------------------------------------------------------
// A self-signed certificate for 127.0.0.1, made in process (no openssl binary needed)
// ---------------------------------------------------------------------------------------

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...parts: Buffer[]) => der(0x30, ...parts);
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}
function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, "0");
  return der(0x17, Buffer.from(`${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`));
}

/** A fresh P-256 key and a self-signed X.509 v3 certificate for CN/IP 127.0.0.1, valid 7 days (PEM). */
export function selfSignedCertificate(now = new Date()): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const ecdsaSha256 = seq(oid("1.2.840.10045.4.3.2"));
  const name = seq(der(0x31, seq(oid("2.5.4.3"), der(0x0c, Buffer.from("127.0.0.1")))));
  const serial = randomBytes(8);
  // A positive INTEGER with no leading zero byte (DER forbids that padding: OpenSSL refused
  // such a certificate, "illegal padding", whenever the first byte came out 0x00).
  serial[0] = (serial[0] & 0x7f) | 0x40;
  const san = seq(oid("2.5.29.17"), der(0x04, seq(der(0x87, Buffer.from([127, 0, 0, 1])))));
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    ecdsaSha256,
    name,
    seq(utcTime(new Date(now.getTime() - 3_600_000)), utcTime(new Date(now.getTime() + 7 * 86_400_000))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    der(0xa3, seq(san)),
  );
  const signature = sign("sha256", tbs, privateKey);
  const certDer = seq(tbs, ecdsaSha256, der(0x03, Buffer.from([0]), signature));
  const cert = `-----BEGIN CERTIFICATE-----\n${certDer.toString("base64").replace(/(.{64})/g, "$1\n").trim()}\n-----END CERTIFICATE-----\n`;
  return { key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), cert };
}

// ---------------------------------------------------------------------------------------
// Shim model
// ---------------------------------------------------------------------------------------

/**
 * SDK v3 client settings that reach moto itself (not the proxy), with the caller's access
 * key (moto maps keys to accounts) and the proxy's kept-alive agent: for shims that
 * translate a call into other calls moto understands.
 */
export interface UpstreamSdkConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly maxAttempts: number;
  readonly requestHandler: { readonly httpsAgent: https.Agent };
}

/** What an operation handler sees: one awsJson1.0/1.1 call. */
export interface JsonCall {
  /** Operation name (the part of X-Amz-Target after the dot). */
  readonly op: string;
  /** Parsed request body. */
  readonly input: any;
  /** Region from the request's SigV4 credential scope. */
  readonly region: string;
  /** Settings for an SDK client that talks to moto directly. */
  readonly upstream: UpstreamSdkConfig;
  /** Sends the call (or a changed input, or another operation of the same service) to moto and returns its answer. */
  forward(input?: unknown, op?: string): Promise<JsonReply>;
}

export interface JsonReply {
  readonly status: number;
  readonly body: any;
  /** Extra response headers (e.g. `x-amzn-query-error`). @default none */
  readonly headers?: Readonly<Record<string, string>>;
}

export type Operation = (call: JsonCall) => JsonReply | Promise<JsonReply>;

/** A shim of a JSON-protocol service, matched by its `X-Amz-Target` prefix. */
export interface JsonShim {
  /** Short id for logs and tests. */
  readonly id: string;
  /** X-Amz-Target prefix of the service (`CodeDeploy_20141006`). */
  readonly targetPrefix: string;
  /** The moto bug, with the place in moto's source; what a probe in the tests checks. */
  readonly bug: string;
  /** Handlers by operation name; `*` handles every operation of the service. */
  readonly ops: Readonly<Record<string, Operation>>;
  /** Resources the shim holds itself, for the leftover check (model name -> items). */
  state?(): Record<string, unknown[]>;
}

/** What an action handler of a Query-protocol service sees (form-encoded `Action=...`). */
export interface QueryCall {
  readonly action: string;
  /** The form parameters (body and URL query). */
  readonly params: URLSearchParams;
  /** Region from the request's SigV4 credential scope. */
  readonly region: string;
  /** Settings for an SDK client that talks to moto directly. */
  readonly upstream: UpstreamSdkConfig;
  /** Sends the request unchanged to moto; resolves with moto's answer (XML text). */
  forward(): Promise<QueryReply>;
}

export interface QueryReply {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** A shim of a Query-protocol service, matched by the SigV4 signing name and the `Action`. */
export interface QueryShim {
  readonly id: string;
  /** SigV4 signing name of the service (`rds`). */
  readonly signingName: string;
  readonly bug: string;
  /** Handlers by action name (no wildcard: a Query shim names each action it touches). */
  readonly actions: Readonly<Record<string, (call: QueryCall) => Promise<QueryReply>>>;
}

/** What a handler of a REST-protocol call sees (S3, path-style: `/<bucket>[/<key>]`). */
export interface RestCall {
  readonly method: string;
  /** The URL path, as sent. */
  readonly path: string;
  /** The URL query (`notification` of `?notification=`). */
  readonly query: URLSearchParams;
  /** The request body, as sent. */
  readonly body: Buffer;
  /** Region from the request's SigV4 credential scope. */
  readonly region: string;
  /** Sends the request unchanged to moto; resolves with moto's answer (text). */
  forward(): Promise<QueryReply>;
}

/**
 * A shim of a REST-protocol service, matched by the SigV4 signing name, the method and a
 * query key: `"GET ?notification"` handles `GET /<bucket>?notification`. Nothing else of the
 * service (objects, the state backend's calls) reaches a handler.
 */
export interface RestShim {
  readonly id: string;
  /** SigV4 signing name of the service (`s3`). */
  readonly signingName: string;
  readonly bug: string;
  /** Handlers by `<METHOD> ?<query key>` (no wildcard). */
  readonly routes: Readonly<Record<string, (call: RestCall) => Promise<QueryReply>>>;
}

export type Shim = JsonShim | QueryShim | RestShim;

/** An AWS error in the awsJson1.1 format (`__type`), thrown by handlers. */
export class AwsError extends Error {
  constructor(
    public readonly type: string,
    message: string,
    public readonly status = 400,
  ) {
    super(message);
  }
}

const ok = (body: unknown = {}): JsonReply => ({ status: 200, body });
const now = () => Date.now() / 1000;
type Tag = { Key: string; Value: string };

/** A tag store keyed by ARN, with the three tagging operations in the shape most JSON services use. */
function tagStore(field = "ResourceArn") {
  const tags = new Map<string, Tag[]>();
  const merge = (arn: string, add: readonly Tag[] = []) => {
    const kept = (tags.get(arn) ?? []).filter((t) => !add.some((a) => a.Key === t.Key));
    tags.set(arn, [...kept, ...add.map((t) => ({ Key: t.Key, Value: t.Value ?? "" }))]);
  };
  return {
    merge,
    drop: (arn: string) => tags.delete(arn),
    ops: {
      ListTagsForResource: (c: JsonCall) => ok({ Tags: tags.get(c.input[field]) ?? [] }),
      TagResource: (c: JsonCall) => (merge(c.input[field], c.input.Tags), ok()),
      UntagResource: (c: JsonCall) => (tags.set(c.input[field], (tags.get(c.input[field]) ?? []).filter((t) => !(c.input.TagKeys ?? []).includes(t.Key))), ok()),
    },
  };
}

// ---------------------------------------------------------------------------------------
// The shims
// ---------------------------------------------------------------------------------------

/**
 * Application Auto Scaling tags. The provider lists a scalable target's tags right after
 * RegisterScalableTarget (and tags/untags on update); moto answers 500. The shim keeps the
 * tags given to RegisterScalableTarget and serves the three tag operations.
 */
export function appAutoScalingTags(): JsonShim {
  const tags = new Map<string, Record<string, string>>();
  return {
    id: "appautoscaling-tags",
    targetPrefix: "AnyScaleFrontendService",
    bug:
      "moto has no Application Auto Scaling ListTagsForResource/TagResource/UntagResource (moto/applicationautoscaling/responses.py " +
      "ApplicationAutoScalingResponse defines none; NotImplementedError -> HTTP 500) and register_scalable_target drops Tags",
    ops: {
      RegisterScalableTarget: async (c) => {
        const r = await c.forward();
        const arn = r.body?.ScalableTargetARN as string | undefined;
        if (r.status === 200 && arn && !tags.has(arn)) tags.set(arn, { ...(c.input.Tags ?? {}) });
        return r;
      },
      ListTagsForResource: (c) => ok({ Tags: tags.get(c.input.ResourceARN) ?? {} }),
      TagResource: (c) => (tags.set(c.input.ResourceARN, { ...(tags.get(c.input.ResourceARN) ?? {}), ...c.input.Tags }), ok()),
      UntagResource: (c) => {
        const t = { ...(tags.get(c.input.ResourceARN) ?? {}) };
        for (const k of c.input.TagKeys ?? []) delete t[k];
        tags.set(c.input.ResourceARN, t);
        return ok();
      },
    },
  };
}

/** Keys whose ISO-8601 strings moto's CodePipeline returns where AWS returns epoch seconds. */
const PIPELINE_TIMESTAMPS = new Set(["created", "updated", "startTime", "lastUpdateTime"]);
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Replaces ISO-8601 strings under `keys` by epoch seconds, anywhere in a JSON value. */
export function isoToEpoch(value: unknown, keys: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => isoToEpoch(v, keys));
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, keys.has(k) && typeof v === "string" && ISO_8601.test(v) ? Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(v) ? v : `${v}Z`) / 1000 : isoToEpoch(v, keys)]),
  );
}

/** CodePipeline timestamps as JSON numbers. */
export function codePipelineTimestamps(): JsonShim {
  return {
    id: "codepipeline-timestamps",
    targetPrefix: "CodePipeline_20150709",
    bug:
      "moto's CodePipeline returns metadata.created/updated (and execution startTime/lastUpdateTime) as ISO-8601 strings " +
      "(moto/codepipeline/models.py CodePipeline and PipelineExecution use iso_8601_datetime_with_milliseconds); awsJson1.1 " +
      "timestamps are epoch-second numbers, so the SDK fails \"expected Timestamp to be a JSON Number, got string instead\"",
    ops: {
      "*": async (c) => {
        const r = await c.forward();
        return r.status === 200 ? { status: 200, body: isoToEpoch(r.body, PIPELINE_TIMESTAMPS) } : r;
      },
    },
  };
}

/** Stands in for the location AWS does not require; never leaves the proxy. */
export const CODEBUILD_NO_LOCATION = "emulator-shim-no-location";

/**
 * CodeBuild projects fed by CodePipeline. moto insists on a location for CODEPIPELINE
 * sources and artifacts, ignores encryptionKey and has no UpdateProject; the shim fills in
 * (and strips again) a placeholder location, answers with the key the project was created
 * with, and updates a project by recreating it in moto under the same name (same ARN).
 */
export function codeBuildProjects(): JsonShim {
  const keys = new Map<string, string>();
  const needsLocation = (x: any) => x && typeof x === "object" && ["CODEPIPELINE", "NO_SOURCE", "NO_ARTIFACTS"].includes(x.type) && !x.location;
  const fill = (x: any) => (x?.type !== "NO_ARTIFACTS" && needsLocation(x) ? { ...x, location: CODEBUILD_NO_LOCATION } : x);
  const strip = (x: any) => {
    if (x?.location !== CODEBUILD_NO_LOCATION) return x;
    const { location: _location, ...rest } = x;
    return rest;
  };
  const repair = (p: any) => (p ? { ...p, source: strip(p.source), artifacts: strip(p.artifacts), ...(keys.has(p.name) ? { encryptionKey: keys.get(p.name) } : {}) } : p);
  return {
    id: "codebuild-projects",
    targetPrefix: "CodeBuild_20161006",
    bug:
      "moto's CodeBuild CreateProject requires a location for every source and for CODEPIPELINE artifacts " +
      "(moto/codebuild/responses.py _validate_required_params_source/_validate_required_params_artifacts: " +
      "InvalidInputException \"Project source location is required\"; AWS needs none for CODEPIPELINE), stores " +
      "encryptionKey as alias/aws/s3 whatever was given (moto/codebuild/models.py CodeBuild.__init__) and has no " +
      "UpdateProject (CodeBuildResponse; NotImplementedError -> HTTP 500)",
    ops: {
      CreateProject: async (c) => {
        const r = await c.forward({ ...c.input, source: fill(c.input.source), artifacts: fill(c.input.artifacts) });
        if (r.status === 200 && c.input.encryptionKey) keys.set(c.input.name, c.input.encryptionKey);
        return r.status === 200 ? ok({ ...r.body, project: repair(r.body?.project) }) : r;
      },
      UpdateProject: async (c) => {
        const name = String(c.input.name ?? "").replace(/^arn:.*:project\//, "");
        const got = await c.forward({ names: [name] }, "BatchGetProjects");
        const current = repair(got.body?.projects?.[0]);
        if (got.status !== 200 || !current) throw new AwsError("ResourceNotFoundException", `Project not found: ${name}`);
        const fields = ["description", "source", "artifacts", "environment", "serviceRole", "tags", "cache", "timeoutInMinutes", "queuedTimeoutInMinutes", "sourceVersion", "logsConfig", "vpcConfig", "encryptionKey"];
        const merged: Record<string, unknown> = { name };
        for (const f of fields) if ((c.input[f] ?? current[f]) !== undefined) merged[f] = c.input[f] ?? current[f];
        const deleted = await c.forward({ name }, "DeleteProject");
        if (deleted.status !== 200) return deleted;
        const r = await c.forward({ ...merged, source: fill(merged.source), artifacts: fill(merged.artifacts) }, "CreateProject");
        if (r.status === 200 && merged.encryptionKey) keys.set(name, merged.encryptionKey as string);
        return r.status === 200 ? ok({ project: repair(r.body?.project) }) : r;
      },
      BatchGetProjects: async (c) => {
        const r = await c.forward();
        return r.status === 200 ? ok({ ...r.body, projects: (r.body?.projects ?? []).map(repair) }) : r;
      },
      DeleteProject: async (c) => {
        const r = await c.forward();
        if (r.status === 200) keys.delete(c.input.name);
        return r;
      },
    },
  };
}

/**
 * CodeStar Connections, served by the shim: moto has no such service. A created connection
 * stays PENDING, as in AWS until someone completes the OAuth handshake in the console.
 */
export function codeStarConnections(): JsonShim {
  const connections = new Map<string, Record<string, unknown>>();
  const tags = tagStore();
  const find = (arn: string) => {
    const found = connections.get(arn);
    if (!found) throw new AwsError("ResourceNotFoundException", `Connection ${arn} does not exist`);
    return found;
  };
  return {
    id: "codestar-connections",
    targetPrefix: "CodeStar_connections_20191201",
    bug: "moto has no CodeStar Connections service (no moto/codestarconnections; CreateConnection answers HTTP 500)",
    ops: {
      CreateConnection: (c) => {
        const arn = `arn:aws:codestar-connections:${c.region}:${EMULATOR_ACCOUNT}:connection/${randomUUID()}`;
        connections.set(arn, {
          ConnectionName: c.input.ConnectionName,
          ConnectionArn: arn,
          ProviderType: c.input.ProviderType,
          OwnerAccountId: EMULATOR_ACCOUNT,
          ConnectionStatus: "PENDING",
          ...(c.input.HostArn ? { HostArn: c.input.HostArn } : {}),
        });
        tags.merge(arn, c.input.Tags);
        return ok({ ConnectionArn: arn, Tags: c.input.Tags ?? [] });
      },
      GetConnection: (c) => ok({ Connection: find(c.input.ConnectionArn) }),
      ListConnections: (c) => ok({ Connections: [...connections.values()].filter((x) => !c.input.ProviderTypeFilter || x.ProviderType === c.input.ProviderTypeFilter) }),
      DeleteConnection: (c) => (find(c.input.ConnectionArn), connections.delete(c.input.ConnectionArn), tags.drop(c.input.ConnectionArn), ok()),
      ...tags.ops,
    },
    state: () => ({ Connection: [...connections.values()] }),
  };
}

/**
 * CodeDeploy (applications, deployment groups, deployment configs, deployments), served by
 * the shim. moto can create and read applications and deployment groups but never update
 * or delete them, so no apply of a change and no destroy could pass; half of a service
 * cannot be patched over moto's store (a deleted group would stay in moto), so the shim
 * holds the whole CodeDeploy state. Deployments stay "Created", as in moto.
 */
export function codeDeploy(): JsonShim {
  const apps = new Map<string, Record<string, any>>();
  const groups = new Map<string, Record<string, any>>();
  const configs = new Map<string, Record<string, any>>();
  const deployments = new Map<string, Record<string, any>>();
  const tags = tagStore();
  const arn = (region: string, kind: string, name: string) => `arn:aws:codedeploy:${region}:${EMULATOR_ACCOUNT}:${kind}:${name}`;
  const key = (app: string, group: string) => `${app}/${group}`;
  const app = (name: string) => {
    const found = apps.get(name);
    if (!found) throw new AwsError("ApplicationDoesNotExistException", `No application found for name: ${name}`);
    return found;
  };
  const group = (appName: string, name: string) => {
    app(appName);
    const found = groups.get(key(appName, name));
    if (!found) throw new AwsError("DeploymentGroupDoesNotExistException", `No Deployment Group found for name: ${name}`);
    return found;
  };
  const configExists = (name: string | undefined) => !name || name.startsWith("CodeDeployDefault.") || configs.has(name);
  const groupFields = (input: Record<string, any>) => {
    const { applicationName: _a, currentDeploymentGroupName: _c, newDeploymentGroupName: _n, tags: _t, ...fields } = input;
    return fields;
  };
  return {
    id: "codedeploy",
    targetPrefix: "CodeDeploy_20141006",
    bug:
      "moto's CodeDeploy has no UpdateApplication, DeleteApplication, UpdateDeploymentGroup, DeleteDeploymentGroup or " +
      "Create/Get/DeleteDeploymentConfig (moto/codedeploy/responses.py CodeDeployResponse; NotImplementedError -> HTTP 500), " +
      "and GetDeploymentGroup returns alarmConfiguration {} (\"# TODO\" in _deployment_group_info)",
    ops: {
      CreateApplication: (c) => {
        const name = c.input.applicationName;
        if (apps.has(name)) throw new AwsError("ApplicationAlreadyExistsException", `The application ${name} already exists with the IAM user or AWS account.`);
        const info = { applicationId: randomUUID(), applicationName: name, computePlatform: c.input.computePlatform ?? "Server", createTime: now(), linkedToGitHub: false };
        apps.set(name, info);
        tags.merge(arn(c.region, "application", name), c.input.tags);
        return ok({ applicationId: info.applicationId });
      },
      GetApplication: (c) => ok({ application: app(c.input.applicationName) }),
      BatchGetApplications: (c) => ok({ applicationsInfo: (c.input.applicationNames ?? []).map(app) }),
      ListApplications: () => ok({ applications: [...apps.keys()] }),
      UpdateApplication: (c) => {
        const from = c.input.applicationName;
        const to = c.input.newApplicationName ?? from;
        const info = app(from);
        if (to !== from && apps.has(to)) throw new AwsError("ApplicationAlreadyExistsException", `The application ${to} already exists.`);
        apps.delete(from);
        apps.set(to, { ...info, applicationName: to });
        for (const [k, g] of [...groups]) {
          if (g.applicationName !== from) continue;
          groups.delete(k);
          groups.set(key(to, g.deploymentGroupName), { ...g, applicationName: to });
        }
        return ok();
      },
      DeleteApplication: (c) => {
        const name = c.input.applicationName;
        apps.delete(name);
        for (const [k, g] of [...groups]) if (g.applicationName === name) groups.delete(k);
        tags.drop(arn(c.region, "application", name));
        return ok();
      },
      CreateDeploymentGroup: (c) => {
        const { applicationName: appName, deploymentGroupName: name } = c.input;
        const a = app(appName);
        if (groups.has(key(appName, name))) throw new AwsError("DeploymentGroupAlreadyExistsException", `A deployment group named ${name} already exists for application ${appName}.`);
        if (!c.input.serviceRoleArn) throw new AwsError("RoleRequiredException", "Role ARN is required.");
        if (!configExists(c.input.deploymentConfigName)) throw new AwsError("DeploymentConfigDoesNotExistException", `No deployment configuration found for name: ${c.input.deploymentConfigName}`);
        const info = {
          deploymentConfigName: a.computePlatform === "ECS" ? "CodeDeployDefault.ECSAllAtOnce" : "CodeDeployDefault.OneAtATime",
          outdatedInstancesStrategy: "UPDATE",
          terminationHookEnabled: false,
          ...groupFields(c.input),
          applicationName: appName,
          deploymentGroupName: name,
          deploymentGroupId: randomUUID(),
          computePlatform: a.computePlatform,
        };
        groups.set(key(appName, name), info);
        tags.merge(arn(c.region, "deploymentgroup", key(appName, name)), c.input.tags);
        return ok({ deploymentGroupId: info.deploymentGroupId });
      },
      GetDeploymentGroup: (c) => ok({ deploymentGroupInfo: group(c.input.applicationName, c.input.deploymentGroupName) }),
      ListDeploymentGroups: (c) => (app(c.input.applicationName), ok({ applicationName: c.input.applicationName, deploymentGroups: [...groups.values()].filter((g) => g.applicationName === c.input.applicationName).map((g) => g.deploymentGroupName) })),
      UpdateDeploymentGroup: (c) => {
        const { applicationName: appName, currentDeploymentGroupName: from } = c.input;
        const to = c.input.newDeploymentGroupName ?? from;
        const info = group(appName, from);
        if (!configExists(c.input.deploymentConfigName)) throw new AwsError("DeploymentConfigDoesNotExistException", `No deployment configuration found for name: ${c.input.deploymentConfigName}`);
        groups.delete(key(appName, from));
        groups.set(key(appName, to), { ...info, ...groupFields(c.input), deploymentGroupName: to });
        return ok({ hooksNotCleanedUp: [] });
      },
      DeleteDeploymentGroup: (c) => {
        groups.delete(key(c.input.applicationName, c.input.deploymentGroupName));
        tags.drop(arn(c.region, "deploymentgroup", key(c.input.applicationName, c.input.deploymentGroupName)));
        return ok({ hooksNotCleanedUp: [] });
      },
      CreateDeploymentConfig: (c) => {
        const name = c.input.deploymentConfigName;
        if (configExists(name)) throw new AwsError("DeploymentConfigAlreadyExistsException", `A deployment configuration named ${name} already exists.`);
        const { deploymentConfigName: _n, ...fields } = c.input;
        const info = { computePlatform: "Server", ...fields, deploymentConfigName: name, deploymentConfigId: randomUUID(), createTime: now() };
        configs.set(name, info);
        return ok({ deploymentConfigId: info.deploymentConfigId });
      },
      GetDeploymentConfig: (c) => {
        const name = c.input.deploymentConfigName;
        const info = configs.get(name);
        if (info) return ok({ deploymentConfigInfo: info });
        if (name?.startsWith("CodeDeployDefault.")) return ok({ deploymentConfigInfo: { deploymentConfigName: name, computePlatform: /ECS/.test(name) ? "ECS" : /Lambda/.test(name) ? "Lambda" : "Server" } });
        throw new AwsError("DeploymentConfigDoesNotExistException", `No deployment configuration found for name: ${name}`);
      },
      DeleteDeploymentConfig: (c) => {
        const name = c.input.deploymentConfigName;
        if ([...groups.values()].some((g) => g.deploymentConfigName === name)) throw new AwsError("DeploymentConfigInUseException", `The deployment configuration ${name} is in use by a deployment group.`);
        configs.delete(name);
        return ok();
      },
      CreateDeployment: (c) => {
        const g = group(c.input.applicationName, c.input.deploymentGroupName);
        const id = `d-${randomBytes(6).toString("hex").toUpperCase().slice(0, 9)}`;
        const { applicationName: _a, deploymentGroupName: _g, ...fields } = c.input;
        deployments.set(id, {
          deploymentConfigName: g.deploymentConfigName,
          ...fields,
          deploymentId: id,
          applicationName: g.applicationName,
          deploymentGroupName: g.deploymentGroupName,
          status: "Created",
          createTime: now(),
          creator: "user",
          computePlatform: g.computePlatform,
          deploymentStyle: g.deploymentStyle,
        });
        return ok({ deploymentId: id });
      },
      GetDeployment: (c) => {
        const d = deployments.get(c.input.deploymentId);
        if (!d) throw new AwsError("DeploymentDoesNotExistException", `The deployment ${c.input.deploymentId} could not be found.`);
        return ok({ deploymentInfo: d });
      },
      BatchGetDeployments: (c) => ok({ deploymentsInfo: (c.input.deploymentIds ?? []).map((id: string) => deployments.get(id)).filter(Boolean) }),
      ListDeployments: (c) => ok({ deployments: [...deployments.values()].filter((d) => (!c.input.applicationName || d.applicationName === c.input.applicationName) && (!c.input.deploymentGroupName || d.deploymentGroupName === c.input.deploymentGroupName)).map((d) => d.deploymentId) }),
      ...tags.ops,
    },
    // Deployments are history (AWS keeps them too), not leftovers.
    state: () => ({ Application: [...apps.values()], DeploymentGroup: [...groups.values()], DeploymentConfig: [...configs.values()] }),
  };
}

/** The awsJson wire form of an SDK output: timestamps as epoch seconds, blobs as base64, no `$metadata`. */
export function toJsonWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(toJsonWire);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => k !== "$metadata" && v !== undefined).map(([k, v]) => [k, toJsonWire(v)]));
}

/** CloudWatch's Query protocol settings (the pinned client's own protocolSettings, less the JSON target). */
const CLOUDWATCH_QUERY = { defaultNamespace: "com.amazonaws.cloudwatch", xmlNamespace: "http://monitoring.amazonaws.com/doc/2010-08-01/", version: "2010-08-01" };

/**
 * CloudWatch over the JSON protocol. The pinned @aws-sdk/client-cloudwatch sends awsJson1.0
 * (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`, `x-amzn-query-mode: true`); moto
 * only speaks CloudWatch's Query protocol. The shim replays each named operation on moto
 * through the same SDK client with the Query protocol, and answers in awsJson1.0 (errors
 * with the `x-amzn-query-error` header an awsQueryCompatible client reads the code from).
 * Named: DescribeAlarms (`platform status`, the rollback checklist) and SetAlarmState (the
 * e2e's alarm check). The provider (hashicorp/aws 5.100.0) uses the Query protocol and never
 * reaches this shim.
 */
export function cloudWatchJson(): JsonShim {
  const viaQuery =
    (Command: new (input: any) => any): Operation =>
    async (c) => {
      const client = new CloudWatchClient({ ...c.upstream, protocol: new AwsQueryProtocol(CLOUDWATCH_QUERY) });
      try {
        return ok(toJsonWire(await client.send(new Command(c.input))));
      } catch (e) {
        const err = e as { name?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
        if (!err.$metadata?.httpStatusCode || !err.name) throw e;
        const code = err.name;
        return { status: err.$metadata.httpStatusCode, body: { __type: `com.amazonaws.cloudwatch#${code}`, message: err.message }, headers: { "x-amzn-query-error": `${code};${err.$fault === "server" ? "Receiver" : "Sender"}` } };
      }
    };
  return {
    id: "cloudwatch-json",
    targetPrefix: "GraniteServiceVersion20100801",
    bug:
      "moto's CloudWatch answers the JSON protocol (awsJson1.0, which @aws-sdk/client-cloudwatch 3.1142 sends) with HTTP 500 and an HTML page: " +
      "moto/core/request.py determine_request_protocol raises NotImplementedError \"Unsupported protocol [json] for service cloudwatch\" because the " +
      "service model moto reads (botocore 1.35.99, which checkov 3.3.30 pins) lists only \"query\" for CloudWatch (moto/cloudwatch/responses.py parses through it)",
    ops: { DescribeAlarms: viaQuery(DescribeAlarmsCommand), SetAlarmState: viaQuery(SetAlarmStateCommand) },
  };
}

/** A DB subnet group as moto describes it, or undefined when moto does not have it. */
async function describeSubnetGroup(rds: RDSClient, name: string): Promise<DBSubnetGroup | undefined> {
  try {
    return (await rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name }))).DBSubnetGroups?.[0];
  } catch (e) {
    if ((e as Error).name === "DBSubnetGroupNotFoundFault") return undefined;
    throw e;
  }
}

/**
 * RDS ModifyDBSubnetGroup. moto modifies the group and then forgets it, so every later read
 * fails (the provider: "Root object was present, but now absent"; adding an AZ changes the
 * database's subnet group). The shim reads the group's tags first, lets moto modify it, and
 * when moto no longer has the group stores it again as modified: CreateDBSubnetGroup with the
 * same name (so the same ARN), the new subnets, the description and the tags.
 */
export function rdsModifyDbSubnetGroup(): QueryShim {
  return {
    id: "rds-modify-db-subnet-group",
    signingName: "rds",
    bug:
      "moto/rds/models.py RDSBackend.modify_db_subnet_group takes the group out of subnet_groups (self.subnet_groups.pop(subnet_name)), " +
      "modifies it and never stores it again: after ModifyDBSubnetGroup, DescribeDBSubnetGroups answers DBSubnetGroupNotFoundFault (404)",
    actions: {
      ModifyDBSubnetGroup: async (c) => {
        const rds = new RDSClient(c.upstream);
        const name = c.params.get("DBSubnetGroupName") ?? "";
        const before = await describeSubnetGroup(rds, name);
        const tags = before?.DBSubnetGroupArn ? ((await rds.send(new ListTagsForResourceCommand({ ResourceName: before.DBSubnetGroupArn }))).TagList ?? []) : [];
        const r = await c.forward();
        if (r.status !== 200 || !before || (await describeSubnetGroup(rds, name))) return r;
        const subnetIds = [...c.params].filter(([k]) => /^SubnetIds\.[A-Za-z]+\.\d+$/.test(k)).map(([, v]) => v);
        await rds.send(
          new CreateDBSubnetGroupCommand({ DBSubnetGroupName: name, DBSubnetGroupDescription: c.params.get("DBSubnetGroupDescription") ?? before.DBSubnetGroupDescription, SubnetIds: subnetIds, Tags: tags }),
        );
        return r;
      },
    },
  };
}

/** The ECS service fields moto drops on CreateService and UpdateService, and the provider reads back. */
export const ECS_SERVICE_DROPPED_FIELDS = ["enableECSManagedTags", "healthCheckGracePeriodSeconds", "availabilityZoneRebalancing", "enableExecuteCommand"] as const;

/**
 * ECS service fields. moto stores none of {@link ECS_SERVICE_DROPPED_FIELDS}, so
 * DescribeServices answers managed tags false, grace period 0, no AZ rebalancing and the
 * provider plans them again after every apply. The shim remembers what CreateService and
 * UpdateService were given per service ARN and puts it into the answers about that service.
 * It holds no resource of its own (moto lists the services), so it has no `state()`;
 * DeleteService forgets the service.
 */
export function ecsServiceFields(): JsonShim {
  const given = new Map<string, Record<string, unknown>>();
  const remember = (arn: unknown, input: Record<string, unknown>) => {
    if (typeof arn !== "string") return;
    const fields = Object.fromEntries(ECS_SERVICE_DROPPED_FIELDS.filter((f) => input[f] !== undefined).map((f) => [f, input[f]]));
    given.set(arn, { ...given.get(arn), ...fields });
  };
  const repair = (service: any) => (service?.serviceArn && given.has(service.serviceArn) ? { ...service, ...given.get(service.serviceArn) } : service);
  const write: Operation = async (c) => {
    const r = await c.forward();
    if (r.status !== 200) return r;
    remember(r.body?.service?.serviceArn, c.input);
    return ok({ ...r.body, service: repair(r.body?.service) });
  };
  return {
    id: "ecs-service-fields",
    targetPrefix: "AmazonEC2ContainerServiceV20141113",
    bug:
      "moto/ecs/responses.py EC2ContainerServiceResponse.create_service passes none of enableECSManagedTags, healthCheckGracePeriodSeconds, " +
      "availabilityZoneRebalancing or enableExecuteCommand to the backend (moto/ecs/models.py Service has no such fields), so DescribeServices " +
      "answers without them (the provider reads managed tags false, grace period 0, rebalancing unset)",
    ops: {
      CreateService: write,
      UpdateService: write,
      DescribeServices: async (c) => {
        const r = await c.forward();
        return r.status === 200 ? ok({ ...r.body, services: (r.body?.services ?? []).map(repair) }) : r;
      },
      DeleteService: async (c) => {
        const r = await c.forward();
        if (r.status === 200 && typeof r.body?.service?.serviceArn === "string") given.delete(r.body.service.serviceArn);
        return r;
      },
    },
  };
}

/** Text for an XML element (what an XML answer of moto must not carry raw). */
export function xmlText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** EC2's protocol names (as moto stores them) for the numbers a request may use. */
const IP_PROTOCOLS: Readonly<Record<string, string>> = { "6": "tcp", "17": "udp", "1": "icmp", all: "-1" };
const ipProtocol = (p: string | null | undefined) => (p ? (IP_PROTOCOLS[p.toLowerCase()] ?? p.toLowerCase()) : "");

/** The group-referencing permissions of an AuthorizeSecurityGroupIngress/Egress request that carry a description. */
export function referencedGroupDescriptions(params: URLSearchParams): { key: string; description: string }[] {
  const out: { key: string; description: string }[] = [];
  for (const [k, description] of params) {
    const m = /^IpPermissions\.(\d+)\.Groups\.(\d+)\.Description$/.exec(k);
    if (!m || !description) continue;
    const perm = (f: string) => params.get(`IpPermissions.${m[1]}.${f}`);
    out.push({ key: ruleKey(ipProtocol(perm("IpProtocol")), perm("FromPort") ?? "", perm("ToPort") ?? "", params.get(`IpPermissions.${m[1]}.Groups.${m[2]}.GroupId`) ?? ""), description });
  }
  return out;
}
const ruleKey = (protocol: string, from: string, to: string, group: string) => `${protocol}|${protocol === "-1" ? "" : `${from}|${to}`}|${group}`;

/**
 * Adds `<description>` to the rules of an EC2 `securityGroupRuleSet` answer that lack one,
 * by rule id; `describe` sees the rule's id and its XML (up to the next rule).
 */
export function withRuleDescriptions(xml: string, describe: (id: string, rule: string) => string | undefined): string {
  return xml
    .split(/(?=<securityGroupRuleId>)/)
    .map((rule) => {
      const id = /^<securityGroupRuleId>([^<]+)<\/securityGroupRuleId>/.exec(rule)?.[1];
      const description = id && !/<description>/.test(rule) ? describe(id, rule) : undefined;
      return description === undefined ? rule : rule.replace("</securityGroupRuleId>", `</securityGroupRuleId><description>${xmlText(description)}</description>`);
    })
    .join("");
}

/**
 * Descriptions of security group rules that reference another group. moto keeps a rule's
 * description only on CIDR rules, so the provider reads description "" for
 * aws_vpc_security_group_ingress_rule/egress_rule with referenced_security_group_id and
 * plans it again. The shim takes the description from the AuthorizeSecurityGroupIngress/
 * Egress request, remembers it by the rule id moto answers, and puts it into that answer
 * and into DescribeSecurityGroupRules. ModifySecurityGroupRules (the provider's update of a
 * description) needs nothing: moto stores the description it is given there. Rule ids are
 * moto's random `sgr-` ids, never reused; the shim holds no resource, so no `state()`.
 */
export function ec2ReferencedRuleDescriptions(): QueryShim {
  const descriptions = new Map<string, string>();
  const field = (rule: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(rule)?.[1] ?? "";
  const authorize = async (c: QueryCall): Promise<QueryReply> => {
    const r = await c.forward();
    const wanted = referencedGroupDescriptions(c.params);
    if (r.status !== 200 || !wanted.length) return r;
    const body = withRuleDescriptions(r.body, (id, rule) => {
      const group = /<referencedGroupInfo>[\s\S]*?<groupId>([^<]+)<\/groupId>/.exec(rule)?.[1];
      const found = group && wanted.find((w) => w.key === ruleKey(ipProtocol(field(rule, "ipProtocol")), field(rule, "fromPort"), field(rule, "toPort"), group));
      if (found) descriptions.set(id, found.description);
      return found ? found.description : undefined;
    });
    return { ...r, body };
  };
  return {
    id: "ec2-referenced-rule-descriptions",
    signingName: "ec2",
    bug:
      "moto/ec2/models/security_groups.py SecurityGroupRule.description reads only ip_range[\"Description\"]; a rule that references " +
      "another group keeps its description in source_group, so AuthorizeSecurityGroupIngress/Egress and DescribeSecurityGroupRules answer it without <description>",
    actions: {
      AuthorizeSecurityGroupIngress: authorize,
      AuthorizeSecurityGroupEgress: authorize,
      DescribeSecurityGroupRules: async (c) => {
        const r = await c.forward();
        return r.status === 200 ? { ...r, body: withRuleDescriptions(r.body, (id) => descriptions.get(id)) } : r;
      },
    },
  };
}

/**
 * The Source of DB parameters. moto's DescribeDBParameters ignores the Source filter and
 * answers without a Source field; the provider keeps only parameters whose Source is "user"
 * (or that its config names and AWS reports with a Source), so it reads no parameter and
 * plans rds.force_ssl again. A moto parameter group holds only the parameters
 * ModifyDBParameterGroup set (no engine defaults), so every one is Source "user": the
 * shim, stateless, marks them so and answers a Source other than "user" with none.
 */
export function rdsDbParameterSource(): QueryShim {
  return {
    id: "rds-db-parameter-source",
    signingName: "rds",
    bug:
      "moto/rds/responses.py RDSResponse.describe_db_parameters ignores the Source parameter and returns the group's parameters " +
      "(moto/rds/models.py DBParameterGroup.update_parameters stores only what ModifyDBParameterGroup gave) without a Source field",
    actions: {
      DescribeDBParameters: async (c) => {
        const r = await c.forward();
        if (r.status !== 200) return r;
        const source = c.params.get("Source");
        if (source && source !== "user") return { ...r, body: r.body.replace(/<Parameters>[\s\S]*<\/Parameters>/, "<Parameters/>") };
        return { ...r, body: r.body.replace(/<Parameter>([\s\S]*?)<\/Parameter>/g, (p, inner: string) => (/<Source>/.test(inner) ? p : `<Parameter>${inner}<Source>user</Source></Parameter>`)) };
      },
    },
  };
}

/**
 * S3 EventBridge notifications. moto stores EventBridgeConfiguration but
 * GetBucketNotificationConfiguration never answers it, so the provider reads eventbridge =
 * false for aws_s3_bucket_notification and plans true again. The shim remembers, per
 * bucket, whether the last successful PutBucketNotificationConfiguration had it, and adds
 * `<EventBridgeConfiguration/>` to the answers about that bucket. A flag is not a
 * resource (the provider's destroy of the notification puts an empty configuration, which
 * clears it), so no `state()`.
 */
export function s3EventBridgeNotification(): RestShim {
  const eventBridge = new Set<string>();
  const bucket = (path: string) => decodeURIComponent(path.split("/")[1] ?? "");
  return {
    id: "s3-eventbridge-notification",
    signingName: "s3",
    bug:
      "moto/s3/responses.py S3Response.get_bucket_notification answers Topic, Queue and LambdaFunction configurations only; the " +
      "EventBridgeConfiguration put_bucket_notification_configuration stored (moto/s3/models.py Notification event_bridge) never comes back",
    routes: {
      "PUT ?notification": async (c) => {
        const r = await c.forward();
        if (r.status === 200) {
          if (/<EventBridgeConfiguration[\s/>]/.test(c.body.toString("utf8"))) eventBridge.add(bucket(c.path));
          else eventBridge.delete(bucket(c.path));
        }
        return r;
      },
      "GET ?notification": async (c) => {
        const r = await c.forward();
        if (r.status !== 200 || !eventBridge.has(bucket(c.path)) || /<EventBridgeConfiguration/.test(r.body)) return r;
        const body = r.body.replace(/<NotificationConfiguration([^>]*?)\s*\/>/, "<NotificationConfiguration$1></NotificationConfiguration>").replace("</NotificationConfiguration>", "<EventBridgeConfiguration/></NotificationConfiguration>");
        return { ...r, body };
      },
    },
  };
}

/** Every shim, in a fresh state. */
export function defaultShims(): Shim[] {
  return [
    appAutoScalingTags(),
    codePipelineTimestamps(),
    codeBuildProjects(),
    codeStarConnections(),
    codeDeploy(),
    cloudWatchJson(),
    rdsModifyDbSubnetGroup(),
    ecsServiceFields(),
    ec2ReferencedRuleDescriptions(),
    rdsDbParameterSource(),
    s3EventBridgeNotification(),
  ];
}

// ---------------------------------------------------------------------------------------
// The proxy
// ---------------------------------------------------------------------------------------

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "expect"]);

/** Region of a SigV4-signed request (`Credential=<key>/<date>/<region>/<service>/aws4_request`). */
export function requestRegion(authorization: string | undefined): string {
  return /Credential=[^/]+\/\d+\/([^/]+)\//.exec(authorization ?? "")?.[1] ?? "us-east-1";
}

/** SigV4 signing name of a request (`rds`, `monitoring`, ...), or "" when it is not signed. */
export function requestSigningName(authorization: string | undefined): string {
  return /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(authorization ?? "")?.[1] ?? "";
}

export interface ShimProxy {
  /** `https://127.0.0.1:<port>`: the address clients use. */
  readonly endpoint: string;
  readonly port: number;
  /** moto's own address. */
  readonly upstream: string;
  /** Calls each shim answered or changed, by shim id (for logs and tests). */
  readonly hits: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

export interface ShimProxyOptions {
  /** moto's address, `https://127.0.0.1:<port>`. */
  readonly upstream: string;
  /** @default 0 (the OS picks a free port) */
  readonly port?: number;
  /** @default defaultShims() */
  readonly shims?: readonly Shim[];
  /** One line per shimmed call (e.g. appended to the emulator log). @default none */
  readonly log?: (line: string) => void;
}

interface Upstream {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Starts the proxy on 127.0.0.1 (never another interface). */
export async function startShimProxy(options: ShimProxyOptions): Promise<ShimProxy> {
  const upstream = new URL(options.upstream);
  if (upstream.hostname !== "127.0.0.1") throw new Error(`the emulator shims only front a loopback moto; got ${options.upstream}`);
  const all = options.shims ?? defaultShims();
  const shims = new Map(all.filter((s): s is JsonShim => "targetPrefix" in s).map((s) => [s.targetPrefix, s]));
  const queryShims = all.filter((s): s is QueryShim => "actions" in s);
  const restShims = all.filter((s): s is RestShim => "routes" in s);
  const hits: Record<string, number> = {};
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false, maxSockets: 64 });
  const log = options.log ?? (() => undefined);
  const sdkConfig = (req: http.IncomingMessage): UpstreamSdkConfig => ({
    endpoint: options.upstream,
    region: requestRegion(req.headers.authorization),
    credentials: { accessKeyId: /Credential=([^/]+)\//.exec(req.headers.authorization ?? "")?.[1] ?? "AKIAEMULATOR00000000", secretAccessKey: "emulator" },
    maxAttempts: 1,
    requestHandler: { httpsAgent: agent },
  });

  // A kept-alive socket moto already closed fails at once: that request never reached moto, so
  // it is sent again once on a fresh socket (Node's documented reusedSocket pattern).
  const send = (req: http.IncomingMessage, body: Buffer, decoded: boolean, target?: string, retry = true): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
      headers["content-length"] = String(body.length);
      if (target) headers["x-amz-target"] = target;
      if (decoded) delete headers["accept-encoding"];
      const out = https.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      out.on("error", (e: NodeJS.ErrnoException) => {
        if (retry && out.reusedSocket && (e.code === "ECONNRESET" || e.code === "EPIPE")) send(req, body, decoded, target, false).then(resolve, reject);
        else reject(e);
      });
      out.end(body);
    });

  const reply = (res: http.ServerResponse, status: number, headers: http.IncomingHttpHeaders, body: Buffer) => {
    const out: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k) && k !== "content-length" && v !== undefined) out[k] = v;
    out["content-length"] = String(body.length);
    res.writeHead(status, out);
    res.end(body);
  };
  const json = (res: http.ServerResponse, r: JsonReply, contentType = "application/x-amz-json-1.1") =>
    reply(res, r.status, { "content-type": contentType, "x-amzn-requestid": randomUUID(), ...r.headers }, Buffer.from(JSON.stringify(r.body ?? {})));

  /** A Query-protocol call a shim names (form-encoded `Action=` of a shimmed signing name), or undefined. */
  const queryHandler = (req: http.IncomingMessage, body: Buffer) => {
    const signingName = requestSigningName(req.headers.authorization);
    const named = queryShims.filter((s) => s.signingName === signingName);
    if (!named.length || req.headers["x-amz-target"] || !String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) return undefined;
    const params = new URLSearchParams(body.toString("utf8"));
    for (const [k, v] of new URL(req.url ?? "/", "https://127.0.0.1").searchParams) if (!params.has(k)) params.set(k, v);
    const action = params.get("Action") ?? "";
    const shim = named.find((s) => Object.hasOwn(s.actions, action));
    return shim && { shim, action, params, handler: shim.actions[action] };
  };

  /** A REST call a shim names (signing name, method and a query key), or undefined. */
  const restHandler = (req: http.IncomingMessage) => {
    const signingName = requestSigningName(req.headers.authorization);
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    for (const shim of restShims) {
      if (shim.signingName !== signingName) continue;
      const route = [...url.searchParams.keys()].map((k) => `${req.method} ?${k}`).find((r) => Object.hasOwn(shim.routes, r));
      if (route) return { shim, route, url, handler: shim.routes[route] };
    }
    return undefined;
  };

  /** The request, unchanged, to moto; its answer as text (Query and REST shims read XML). */
  const forwardText = (req: http.IncomingMessage, body: Buffer, decoded: boolean) => async (): Promise<QueryReply> => {
    const r = await send(req, body, decoded);
    return { status: r.status, headers: r.headers, body: r.body.toString("utf8") };
  };
  const replyText = (res: http.ServerResponse, shimId: string, name: string, r: QueryReply) => {
    log(`[emulator-shim ${shimId}] ${name} -> ${r.status}`);
    reply(res, r.status, r.headers, Buffer.from(r.body));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
    const query = queryHandler(req, body);
    if (query) {
      const { shim, action, params, handler } = query;
      hits[shim.id] = (hits[shim.id] ?? 0) + 1;
      const call: QueryCall = {
        action,
        params,
        region: requestRegion(req.headers.authorization),
        upstream: sdkConfig(req),
        forward: forwardText(req, body, false),
      };
      return replyText(res, shim.id, action, await handler(call));
    }
    const rest = restHandler(req);
    if (rest) {
      const { shim, route, url, handler } = rest;
      hits[shim.id] = (hits[shim.id] ?? 0) + 1;
      const call: RestCall = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        body,
        region: requestRegion(req.headers.authorization),
        forward: forwardText(req, body, true),
      };
      return replyText(res, shim.id, route, await handler(call));
    }
    const target = String(req.headers["x-amz-target"] ?? "");
    const dot = target.indexOf(".");
    const shim = dot > 0 ? shims.get(target.slice(0, dot)) : undefined;
    const op = target.slice(dot + 1);
    const handler = shim && (shim.ops[op] ?? shim.ops["*"]);
    if (shim && handler) {
      // awsJson1.0 or 1.1, as the client sent it.
      const contentType = /^application\/x-amz-json-1\.[01]$/.test(String(req.headers["content-type"])) ? String(req.headers["content-type"]) : "application/x-amz-json-1.1";
      let input: any = {};
      try {
        input = body.length ? JSON.parse(body.toString("utf8")) : {};
      } catch {
        /* moto answers a malformed body itself */
      }
      const call: JsonCall = {
        op,
        input,
        region: requestRegion(req.headers.authorization),
        upstream: sdkConfig(req),
        forward: async (changed?: unknown, otherOp?: string) => {
          const r = await send(req, changed === undefined ? body : Buffer.from(JSON.stringify(changed)), true, otherOp && `${target.slice(0, dot)}.${otherOp}`);
          let parsed: any = r.body.toString("utf8");
          try {
            parsed = JSON.parse(parsed);
          } catch {
            /* moto's HTML error page: keep the text */
          }
          return { status: r.status, body: parsed };
        },
      };
      hits[shim.id] = (hits[shim.id] ?? 0) + 1;
      try {
        const r = await handler(call);
        log(`[emulator-shim ${shim.id}] ${op} -> ${r.status}`);
        if (typeof r.body === "string") return reply(res, r.status, { "content-type": "text/html" }, Buffer.from(r.body));
        return json(res, r, contentType);
      } catch (e) {
        if (e instanceof AwsError) {
          log(`[emulator-shim ${shim.id}] ${op} -> ${e.status} ${e.type}`);
          return json(res, { status: e.status, body: { __type: e.type, message: e.message } }, contentType);
        }
        throw e;
      }
    }
    const dataJson = req.url?.split("?")[0] === "/moto-api/data.json";
    const r = await send(req, body, dataJson);
    if (dataJson && r.status === 200) {
      // The shims' own resources join moto's model dump, so leftover checks see them.
      const dump = JSON.parse(r.body.toString("utf8"));
      for (const s of shims.values()) if (s.state) dump[`${s.targetPrefix} (emulator shim ${s.id})`] = s.state();
      return reply(res, 200, r.headers, Buffer.from(JSON.stringify(dump)));
    }
    reply(res, r.status, r.headers, r.body);
  };

  const { key, cert } = selfSignedCertificate();
  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks)).catch((e: Error) => {
        log(`[emulator-shim] ${req.method} ${req.url}: ${e.message}`);
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(`emulator shim proxy: ${e.message}`);
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    port,
    upstream: options.upstream,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------
// A raw awsJson1.1 call (for probes of moto itself and for tests)
// ---------------------------------------------------------------------------------------

/**
 * One awsJson1.1 (or 1.0) call with a fake SigV4 header (moto reads only the credential scope to
 * find the service and region; it checks no signature). Resolves with the raw status and body.
 */
export function awsJsonCall(endpoint: string, signingName: string, target: string, input: unknown, region = "us-east-1", jsonVersion: "1.0" | "1.1" = "1.1"): Promise<{ status: number; body: string; json: any; headers: http.IncomingHttpHeaders }> {
  const body = Buffer.from(JSON.stringify(input));
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        method: "POST",
        path: "/",
        rejectUnauthorized: false,
        agent: false,
        timeout: 15_000,
        headers: {
          "content-type": `application/x-amz-json-${jsonVersion}`,
          "content-length": body.length,
          "x-amz-target": target,
          "x-amz-date": "20250101T000000Z",
          authorization: `AWS4-HMAC-SHA256 Credential=AKIAEMULATOR00000000/20250101/${region}/${signingName}/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: any;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: text, json: parsed, headers: res.headers });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------
// CLI: the proxy as its own process (detached emulator of `npm run local:up`)
// ---------------------------------------------------------------------------------------

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  const upstream = arg("upstream");
  const logFile = arg("log");
  if (!upstream) {
    process.stderr.write("usage: node dist/scripts/emulator-shims.js --upstream https://127.0.0.1:<moto port> [--port <port>] [--log <file>]\n");
    process.exit(2);
  }
  startShimProxy({ upstream, port: Number(arg("port") ?? 0), log: logFile ? (line) => fs.appendFileSync(logFile, `${line}\n`) : undefined }).then(
    (proxy) => {
      process.stdout.write(`${proxy.endpoint}\n`);
      const stop = () => void proxy.close().then(() => process.exit(0));
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      process.on("SIGHUP", stop);
    },
    (e: Error) => {
      process.stderr.write(`emulator-shims: ${e.message}\n`);
      process.exit(1);
    },
  );
}
