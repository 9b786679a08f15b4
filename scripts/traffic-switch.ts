/**
 * Blue/green traffic switch: the operator tool that owns a blue/green service's listener
 * weights after creation (the listener rule's action is under `ignore_changes`, so a later
 * `terraform apply` never reverts a switch).
 *
 *   terraform output -json > outputs.json          # in the environment's stack directory
 *   node dist/scripts/traffic-switch.js --outputs outputs.json --service api --to green
 *   node dist/scripts/traffic-switch.js --outputs outputs.json --service api --blue 90 --green 10
 *   ... --dry-run                                  # print the ModifyRule request only
 *   ... --endpoint http://127.0.0.1:5000           # the AWS emulator
 *
 * It always sends the full ForwardConfig with both target groups (never the bare
 * TargetGroupArn form: once weighted routing is used the ALB rejects mixing the two), refuses
 * to send traffic to a target group without healthy targets unless `--force`, and reads the
 * rule back to confirm the weights.
 *
 * Exit codes: 0 switched (or dry run); 1 the switch failed or was refused; 2 bad arguments.
 */
import * as fs from "fs";
import {
  Action,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";

/** The stack outputs the switch needs (see PlatformStack). */
export interface SwitchOutputs {
  /** `listener_rule_arns`: service -> listener rule ARN. */
  readonly listenerRuleArns: Readonly<Record<string, string>>;
  /** `blue_target_group_arns`: service -> blue target group ARN. */
  readonly blueTargetGroupArns: Readonly<Record<string, string>>;
  /** `green_target_group_arns`: service -> green target group ARN. */
  readonly greenTargetGroupArns: Readonly<Record<string, string>>;
}

export interface Weights {
  readonly blue: number;
  readonly green: number;
}

export interface SwitchArgs {
  readonly outputsFile: string;
  readonly service?: string;
  readonly weights: Weights;
  readonly endpoint?: string;
  readonly region?: string;
  readonly dryRun: boolean;
  readonly force: boolean;
}

/** The ModifyRule request for one service. */
export interface SwitchPlan {
  readonly service: string;
  readonly ruleArn: string;
  readonly blueTargetGroupArn: string;
  readonly greenTargetGroupArn: string;
  readonly weights: Weights;
  readonly actions: Action[];
}

/** Thrown for bad arguments or outputs (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export const USAGE =
  "usage: traffic-switch --outputs <terraform output -json file | -> [--service NAME] (--to blue|green | --blue N --green M) [--endpoint URL] [--region REGION] [--dry-run] [--force]";

/** Parses the command line; weights must be integers 0-100 that sum to 100. */
export function parseArgs(argv: readonly string[]): SwitchArgs {
  let outputsFile: string | undefined;
  let service: string | undefined;
  let to: string | undefined;
  let blue: number | undefined;
  let green: number | undefined;
  let endpoint: string | undefined;
  let region: string | undefined;
  let dryRun = false;
  let force = false;
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith("--") && v !== "-")) throw new UsageError(`${flag} needs a value; got nothing\n${USAGE}`);
    return v;
  };
  const weight = (raw: string, flag: string): number => {
    if (!/^\d{1,3}$/.test(raw) || Number(raw) > 100) throw new UsageError(`${flag} must be an integer 0-100; got "${raw}"`);
    return Number(raw);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case "--outputs":
        outputsFile = value(i++, a);
        break;
      case "--service":
        service = value(i++, a);
        break;
      case "--to":
        to = value(i++, a);
        break;
      case "--blue":
        blue = weight(value(i++, a), a);
        break;
      case "--green":
        green = weight(value(i++, a), a);
        break;
      case "--endpoint":
        endpoint = value(i++, a);
        break;
      case "--region":
        region = value(i++, a);
        break;
      case "--dry-run":
        dryRun = true;
        break;
      case "--force":
        force = true;
        break;
      default:
        throw new UsageError(`unknown argument "${a}"\n${USAGE}`);
    }
  }
  if (!outputsFile) throw new UsageError(`--outputs is required; got nothing\n${USAGE}`);
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) throw new UsageError(`--endpoint must be an http(s) URL; got "${endpoint}"`);
  let weights: Weights;
  if (to !== undefined) {
    if (blue !== undefined || green !== undefined) throw new UsageError(`give either --to or --blue/--green, not both; got --to ${to} with weights`);
    if (to !== "blue" && to !== "green") throw new UsageError(`--to must be blue or green; got "${to}"`);
    weights = to === "blue" ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
  } else {
    if (blue === undefined || green === undefined) throw new UsageError(`give --to blue|green, or both --blue and --green; got ${blue === undefined ? "no --blue" : "no --green"}`);
    if (blue + green !== 100) throw new UsageError(`--blue and --green must sum to 100; got ${blue} + ${green} = ${blue + green}`);
    weights = { blue, green };
  }
  return { outputsFile, service, weights, endpoint, region, dryRun, force };
}

function stringMap(raw: unknown, name: string): Record<string, string> {
  // `terraform output -json` wraps each output as { value, type, sensitive }.
  const value = raw !== null && typeof raw === "object" && "value" in (raw as object) ? (raw as { value: unknown }).value : raw;
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new UsageError(`output ${name} must be a map of service -> ARN; got ${JSON.stringify(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new UsageError(`output ${name}.${k} must be an ARN string; got ${JSON.stringify(v)}`);
  }
  return value as Record<string, string>;
}

/** Reads the three maps from `terraform output -json` (or a plain { name: value } object). */
export function parseOutputs(json: unknown): SwitchOutputs {
  if (json === null || typeof json !== "object") throw new UsageError(`outputs must be the JSON object of terraform output -json; got ${JSON.stringify(json)}`);
  const o = json as Record<string, unknown>;
  for (const name of ["listener_rule_arns", "blue_target_group_arns", "green_target_group_arns"]) {
    if (!(name in o)) throw new UsageError(`outputs have no ${name}; got ${Object.keys(o).join(", ") || "no outputs"}; is this an environment stack with a blue/green service?`);
  }
  return {
    listenerRuleArns: stringMap(o.listener_rule_arns, "listener_rule_arns"),
    blueTargetGroupArns: stringMap(o.blue_target_group_arns, "blue_target_group_arns"),
    greenTargetGroupArns: stringMap(o.green_target_group_arns, "green_target_group_arns"),
  };
}

/**
 * The forward action with both target groups and their weights: always the full
 * ForwardConfig form, which the ALB accepts whatever form the rule had before.
 */
export function buildForwardActions(blueTargetGroupArn: string, greenTargetGroupArn: string, weights: Weights): Action[] {
  return [
    {
      Type: "forward",
      Order: 1,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: blueTargetGroupArn, Weight: weights.blue },
          { TargetGroupArn: greenTargetGroupArn, Weight: weights.green },
        ],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    },
  ];
}

/** Resolves the service and builds its ModifyRule actions. */
export function planSwitch(outputs: SwitchOutputs, weights: Weights, service?: string): SwitchPlan {
  const blueGreen = Object.keys(outputs.blueTargetGroupArns).filter((s) => outputs.greenTargetGroupArns[s]);
  const name = service ?? (blueGreen.length === 1 ? blueGreen[0] : undefined);
  if (!name) throw new UsageError(`--service is required when the stack has ${blueGreen.length} blue/green services; valid: ${blueGreen.join(", ") || "(none)"}`);
  const blue = outputs.blueTargetGroupArns[name];
  const green = outputs.greenTargetGroupArns[name];
  const ruleArn = outputs.listenerRuleArns[name];
  if (!blue || !green) throw new UsageError(`service "${name}" is not a blue/green service of this stack; valid: ${blueGreen.join(", ") || "(none)"}`);
  if (!ruleArn) throw new UsageError(`service "${name}" has no listener rule in listener_rule_arns`);
  return { service: name, ruleArn, blueTargetGroupArn: blue, greenTargetGroupArn: green, weights, actions: buildForwardActions(blue, green, weights) };
}

/** Target groups that would get traffic but have no healthy target (a switch there is an outage). */
export function unhealthyDestinations(plan: SwitchPlan, healthyCount: Readonly<Record<string, number>>): string[] {
  const destinations: [string, number][] = [
    [plan.blueTargetGroupArn, plan.weights.blue],
    [plan.greenTargetGroupArn, plan.weights.green],
  ];
  return destinations.filter(([arn, weight]) => weight > 0 && (healthyCount[arn] ?? 0) === 0).map(([arn]) => arn);
}

/** The weights a rule's forward action carries now, by target group ARN. */
export function weightsOf(actions: readonly Action[] | undefined): Record<string, number> {
  const forward = actions?.find((a) => a.Type === "forward");
  const result: Record<string, number> = {};
  for (const tg of forward?.ForwardConfig?.TargetGroups ?? []) if (tg.TargetGroupArn) result[tg.TargetGroupArn] = tg.Weight ?? 1;
  if (forward?.TargetGroupArn && !Object.keys(result).length) result[forward.TargetGroupArn] = 1;
  return result;
}

/** Applies a plan: health gate, ModifyRule, then reads the rule back. */
export async function applySwitch(plan: SwitchPlan, client: ElasticLoadBalancingV2Client, options: { force: boolean; log: (line: string) => void }): Promise<void> {
  const healthy: Record<string, number> = {};
  for (const arn of [plan.blueTargetGroupArn, plan.greenTargetGroupArn]) {
    const health = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    healthy[arn] = (health.TargetHealthDescriptions ?? []).filter((t) => t.TargetHealth?.State === "healthy").length;
  }
  const empty = unhealthyDestinations(plan, healthy);
  if (empty.length && !options.force) {
    throw new Error(`refusing to send traffic to target group(s) without healthy targets: ${empty.join(", ")}; scale that colour up first (or --force)`);
  }
  const before = await client.send(new DescribeRulesCommand({ RuleArns: [plan.ruleArn] }));
  options.log(`before: ${JSON.stringify(weightsOf(before.Rules?.[0]?.Actions))}`);
  await client.send(new ModifyRuleCommand({ RuleArn: plan.ruleArn, Actions: plan.actions }));
  const after = await client.send(new DescribeRulesCommand({ RuleArns: [plan.ruleArn] }));
  const got = weightsOf(after.Rules?.[0]?.Actions);
  options.log(`after:  ${JSON.stringify(got)}`);
  if (got[plan.blueTargetGroupArn] !== plan.weights.blue || got[plan.greenTargetGroupArn] !== plan.weights.green) {
    throw new Error(`the rule does not carry the requested weights after the switch; got ${JSON.stringify(got)}`);
  }
}

/** The region part of an ARN. */
export function regionOf(arn: string): string | undefined {
  return arn.split(":")[3] || undefined;
}

/** Where main writes its lines. */
export interface SwitchIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const STDIO: SwitchIo = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

export async function main(argv: readonly string[], io: SwitchIo = STDIO): Promise<number> {
  let args: SwitchArgs;
  let plan: SwitchPlan;
  try {
    args = parseArgs(argv);
    const text = args.outputsFile === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(args.outputsFile, "utf8");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UsageError(`${args.outputsFile} is not JSON; write it with: terraform output -json > outputs.json`);
    }
    plan = planSwitch(parseOutputs(json), args.weights, args.service);
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return error instanceof UsageError ? 2 : 1;
  }
  io.out(`service ${plan.service}: blue ${plan.weights.blue} / green ${plan.weights.green} on ${plan.ruleArn}`);
  if (args.dryRun) {
    io.out(JSON.stringify({ RuleArn: plan.ruleArn, Actions: plan.actions }, null, 2));
    return 0;
  }
  const client = new ElasticLoadBalancingV2Client({ region: args.region ?? regionOf(plan.ruleArn) ?? process.env.AWS_REGION, endpoint: args.endpoint });
  try {
    await applySwitch(plan, client, { force: args.force, log: io.out });
    io.out("switched");
    return 0;
  } catch (error) {
    io.err(`switch failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    client.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
