/**
 * Spot checks through the AWS SDK against the emulator: what was created is what the
 * `local` config said. Driven by the config and the applied state, so new resources of the
 * modules are checked as soon as they appear (and a check says "skipped" while the stack
 * has no resource of its kind yet).
 */
import { DescribeSecurityGroupRulesCommand, SecurityGroupRule } from "@aws-sdk/client-ec2";
import { DescribeServicesCommand } from "@aws-sdk/client-ecs";
import { DescribeTargetGroupsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeDBInstancesCommand } from "@aws-sdk/client-rds";
import { EnvironmentConfig, serviceDesiredCount } from "../../environments/schema";
import { EmulatorClients } from "./aws";

/** A managed resource instance from `terraform show -json` (state). */
export interface StateResource {
  readonly address: string;
  readonly type: string;
  readonly values: Record<string, any>;
}

/**
 * Every managed resource instance of a raw state document (`terraform state pull`, which
 * needs no provider start, unlike `show -json`).
 */
export function stateResources(state: any): StateResource[] {
  const out: StateResource[] = [];
  for (const r of state?.resources ?? []) {
    if (r.mode !== "managed") continue;
    const base = `${r.module ? `${r.module}.` : ""}${r.type}.${r.name}`;
    for (const i of r.instances ?? []) {
      const index = i.index_key === undefined ? "" : typeof i.index_key === "number" ? `[${i.index_key}]` : `["${i.index_key}"]`;
      out.push({ address: `${base}${index}`, type: r.type, values: i.attributes ?? {} });
    }
  }
  return out;
}

export interface CheckResult {
  readonly name: string;
  readonly status: "ok" | "failed" | "skipped";
  readonly detail: string;
}

type Check = () => Promise<CheckResult>;

function ok(name: string, detail: string): CheckResult {
  return { name, status: "ok", detail };
}
function failed(name: string, detail: string): CheckResult {
  return { name, status: "failed", detail };
}
function skipped(name: string, detail: string): CheckResult {
  return { name, status: "skipped", detail };
}

/** Ingress rules of a group as `port from source` strings (source = CIDR or sg-id). */
function ingress(rules: readonly SecurityGroupRule[], groupId: string): { from?: number; to?: number; source: string }[] {
  return rules
    .filter((r) => r.GroupId === groupId && !r.IsEgress)
    .map((r) => ({ from: r.FromPort, to: r.ToPort, source: r.ReferencedGroupInfo?.GroupId ?? r.CidrIpv4 ?? r.CidrIpv6 ?? r.PrefixListId ?? "?" }));
}

export function spotChecks(env: EnvironmentConfig, state: readonly StateResource[], outputs: Record<string, { value: any }>, aws: EmulatorClients): Check[] {
  const of = (type: string) => state.filter((r) => r.type === type);
  const out = (name: string): string | undefined => outputs[name]?.value;

  const sgChain: Check = async () => {
    const name = "security group chain (internet -> ALB -> ECS -> RDS)";
    const albSg = out("alb_security_group_id");
    const ecsSg = out("ecs_security_group_id");
    const rdsSg = out("rds_security_group_id");
    if (!albSg || !ecsSg || !rdsSg) return skipped(name, "stack has no alb/ecs/rds security group outputs yet");
    const rules = (await aws.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [albSg, ecsSg, rdsSg] }] }))).SecurityGroupRules ?? [];
    const problems: string[] = [];
    const ecsIn = ingress(rules, ecsSg);
    const rdsIn = ingress(rules, rdsSg);
    const publicPorts = env.services.filter((s) => s.exposure.type === "public").map((s) => s.containerPort);
    if (!ecsIn.length && publicPorts.length) problems.push("ECS group admits nothing");
    for (const r of ecsIn) if (r.source !== albSg) problems.push(`ECS group admits ${r.source} on ${r.from}-${r.to}; only the ALB group ${albSg} may reach tasks`);
    for (const p of publicPorts) if (!ecsIn.some((r) => r.source === albSg && (r.from ?? -1) <= p && p <= (r.to ?? -1))) problems.push(`ECS group does not admit the ALB on container port ${p}`);
    if (env.database) {
      if (!rdsIn.length) problems.push("RDS group admits nothing");
      for (const r of rdsIn) if (r.source !== ecsSg) problems.push(`RDS group admits ${r.source} on ${r.from}-${r.to}; only the ECS group ${ecsSg} may reach the database`);
      if (!rdsIn.some((r) => r.source === ecsSg && r.from === 5432)) problems.push("RDS group does not admit the ECS group on 5432");
    }
    const albIn = ingress(rules, albSg);
    if (publicPorts.length && !albIn.some((r) => r.source === "0.0.0.0/0" && r.from === (env.alb.certificate ? 443 : 80))) {
      problems.push(`ALB group does not admit the internet on ${env.alb.certificate ? 443 : 80}`);
    }
    return problems.length ? failed(name, problems.join("; ")) : ok(name, `ALB <- ${albIn.map((r) => `${r.source}:${r.from}`).join(", ")}; ECS <- ALB on ${ecsIn.map((r) => r.from).join(", ")}; RDS <- ECS on ${rdsIn.map((r) => r.from).join(", ")}`);
  };

  const database: Check = async () => {
    const name = "RDS instance: private, encrypted, managed master secret";
    const dbs = of("aws_db_instance");
    if (!env.database) return dbs.length ? failed(name, "config has no database but the stack has one") : skipped(name, "config has no database");
    if (!dbs.length) return skipped(name, "stack has no aws_db_instance yet");
    const problems: string[] = [];
    for (const db of dbs) {
      const id = db.values.identifier as string;
      const found = (await aws.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
      if (!found) {
        problems.push(`${id} not found`);
        continue;
      }
      if (found.PubliclyAccessible !== false) problems.push(`${id} is publicly accessible`);
      if (!found.MasterUserSecret?.SecretArn) problems.push(`${id} has no managed master user secret`);
      if (found.StorageEncrypted !== true) problems.push(`${id} storage is not encrypted`);
      if (found.MultiAZ !== env.database.multiAz) problems.push(`${id} MultiAZ ${found.MultiAZ}, config says ${env.database.multiAz}`);
      if (found.Engine !== "postgres") problems.push(`${id} engine ${found.Engine}`);
      if (found.BackupRetentionPeriod !== env.database.backupRetentionDays) problems.push(`${id} backup retention ${found.BackupRetentionPeriod}, config says ${env.database.backupRetentionDays}`);
    }
    return problems.length ? failed(name, problems.join("; ")) : ok(name, dbs.map((d) => d.values.identifier).join(", "));
  };

  const services: Check = async () => {
    const name = "ECS services: desired counts and deployment controllers from config";
    const svcs = of("aws_ecs_service");
    if (!svcs.length) return skipped(name, "stack has no aws_ecs_service yet");
    const problems: string[] = [];
    const seen: string[] = [];
    for (const svc of env.services) {
      // One ECS service per application service (blue/green is CodeDeploy task sets inside it).
      const mine = svcs.filter((s) => (s.values.name as string).endsWith(`-${svc.name}`));
      if (!mine.length) {
        problems.push(`no ECS service for ${svc.name}`);
        continue;
      }
      for (const s of mine) {
        const cluster = s.values.cluster as string;
        const found = (await aws.ecs.send(new DescribeServicesCommand({ cluster, services: [s.values.name as string] }))).services?.[0];
        if (!found) {
          problems.push(`${s.values.name} not found in the emulator`);
          continue;
        }
        const want = serviceDesiredCount(env, svc);
        const controller = found.deploymentController?.type ?? "ECS";
        const wantController = svc.deployment.strategy === "rolling" ? "ECS" : "CODE_DEPLOY";
        if (controller !== wantController) problems.push(`${found.serviceName} deployment controller ${controller}, config says ${wantController}`);
        if (found.desiredCount !== want) problems.push(`${found.serviceName} desiredCount ${found.desiredCount}, config says ${want}`);
        // Not checked here: the capacity provider strategy (FARGATE/FARGATE_SPOT). moto drops it,
        // so the emulator's services run with launch type FARGATE (environments/local.ts).
        seen.push(`${found.serviceName}=${found.desiredCount} (${controller})`);
      }
    }
    return problems.length ? failed(name, problems.join("; ")) : ok(name, seen.join(", "));
  };

  const targetGroups: Check = async () => {
    const name = "target groups: health checks from config";
    const tgs = of("aws_lb_target_group");
    const publicSvcs = env.services.filter((s) => s.exposure.type === "public");
    if (!publicSvcs.length) return skipped(name, "config has no public service");
    if (!tgs.length) return skipped(name, "stack has no aws_lb_target_group yet");
    const found = (await aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: tgs.map((t) => t.values.arn as string) }))).TargetGroups ?? [];
    const problems: string[] = [];
    const seen: string[] = [];
    for (const svc of publicSvcs) {
      if (svc.exposure.type !== "public") continue;
      const hc = svc.exposure.healthCheck;
      const mine = found.filter((t) => (t.TargetGroupName ?? "").includes(`-${svc.name}`));
      if (!mine.length) problems.push(`no target group for ${svc.name}`);
      for (const t of mine) {
        const got = { path: t.HealthCheckPath, matcher: t.Matcher?.HttpCode, interval: t.HealthCheckIntervalSeconds, timeout: t.HealthCheckTimeoutSeconds, healthy: t.HealthyThresholdCount, unhealthy: t.UnhealthyThresholdCount };
        const want = { path: hc.path, matcher: hc.matcher, interval: hc.intervalSec, timeout: hc.timeoutSec, healthy: hc.healthyThreshold, unhealthy: hc.unhealthyThreshold };
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${t.TargetGroupName} health check ${JSON.stringify(got)}, config says ${JSON.stringify(want)}`);
        if (t.TargetType !== "ip") problems.push(`${t.TargetGroupName} target type ${t.TargetType}; Fargate awsvpc tasks need ip`);
        if (t.Port !== svc.containerPort) problems.push(`${t.TargetGroupName} port ${t.Port}, container port ${svc.containerPort}`);
        seen.push(`${t.TargetGroupName} ${t.HealthCheckPath}`);
      }
    }
    return problems.length ? failed(name, problems.join("; ")) : ok(name, seen.join(", "));
  };

  return [sgChain, database, services, targetGroups];
}
