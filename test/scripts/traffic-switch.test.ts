import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DescribeRulesCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { applySwitch, buildForwardActions, main, parseArgs, parseOutputs, planSwitch, unhealthyDestinations, weightsOf } from "../../scripts/traffic-switch";

const RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/fargate-prod-alb/1/2/3";
const BLUE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fargate-prod-api-blue/a";
const GREEN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fargate-prod-api-green/b";

/** What `terraform output -json` prints for a stack with one blue/green service. */
const terraformOutputs = {
  listener_rule_arns: { sensitive: false, type: ["object", { api: "string" }], value: { api: RULE } },
  blue_target_group_arns: { sensitive: false, type: ["object", { api: "string" }], value: { api: BLUE } },
  green_target_group_arns: { sensitive: false, type: ["object", { api: "string" }], value: { api: GREEN } },
  alb_dns_name: { sensitive: false, type: "string", value: "x.elb.amazonaws.com" },
};

describe("traffic-switch", () => {
  test("builds the full ForwardConfig with both target groups (never the bare TargetGroupArn)", () => {
    const actions = buildForwardActions(BLUE, GREEN, { blue: 0, green: 100 });
    expect(actions).toEqual([
      {
        Type: "forward",
        Order: 1,
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: BLUE, Weight: 0 },
            { TargetGroupArn: GREEN, Weight: 100 },
          ],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      },
    ]);
    expect(actions[0]).not.toHaveProperty("TargetGroupArn");
  });

  test("parses --to and explicit weights", () => {
    expect(parseArgs(["--outputs", "o.json", "--to", "green"]).weights).toEqual({ blue: 0, green: 100 });
    expect(parseArgs(["--outputs", "o.json", "--to", "blue"]).weights).toEqual({ blue: 100, green: 0 });
    const args = parseArgs(["--outputs", "-", "--service", "api", "--blue", "90", "--green", "10", "--endpoint", "http://127.0.0.1:5000", "--dry-run"]);
    expect(args).toEqual({ outputsFile: "-", service: "api", weights: { blue: 90, green: 10 }, endpoint: "http://127.0.0.1:5000", region: undefined, dryRun: true, force: false });
  });

  test("rejects bad arguments with a clear message", () => {
    expect(() => parseArgs(["--to", "green"])).toThrow(/--outputs is required; got nothing/);
    expect(() => parseArgs(["--outputs", "o", "--blue", "90", "--green", "20"])).toThrow(/--blue and --green must sum to 100; got 90 \+ 20 = 110/);
    expect(() => parseArgs(["--outputs", "o", "--blue", "101", "--green", "0"])).toThrow(/--blue must be an integer 0-100; got "101"/);
    expect(() => parseArgs(["--outputs", "o", "--to", "purple"])).toThrow(/--to must be blue or green; got "purple"/);
    expect(() => parseArgs(["--outputs", "o", "--to", "green", "--blue", "50"])).toThrow(/either --to or --blue\/--green, not both/);
    expect(() => parseArgs(["--outputs", "o", "--blue", "50"])).toThrow(/got no --green/);
    expect(() => parseArgs(["--outputs", "o", "--to", "green", "--endpoint", "localhost"])).toThrow(/--endpoint must be an http\(s\) URL; got "localhost"/);
    expect(() => parseArgs(["--outputs", "o", "--bogus"])).toThrow(/unknown argument "--bogus"/);
  });

  test("reads terraform output -json and plans the switch for the only blue/green service", () => {
    const plan = planSwitch(parseOutputs(terraformOutputs), { blue: 0, green: 100 });
    expect(plan).toEqual(expect.objectContaining({ service: "api", ruleArn: RULE, blueTargetGroupArn: BLUE, greenTargetGroupArn: GREEN }));
    expect(plan.actions).toEqual(buildForwardActions(BLUE, GREEN, { blue: 0, green: 100 }));
  });

  test("asks for --service when there are several, and rejects unknown services", () => {
    const two = parseOutputs({
      listener_rule_arns: { api: RULE, web: RULE },
      blue_target_group_arns: { api: BLUE, web: BLUE },
      green_target_group_arns: { api: GREEN, web: GREEN },
    });
    expect(() => planSwitch(two, { blue: 0, green: 100 })).toThrow(/--service is required when the stack has 2 blue\/green services; valid: api, web/);
    expect(() => planSwitch(two, { blue: 0, green: 100 }, "worker")).toThrow(/service "worker" is not a blue\/green service of this stack/);
    expect(() => parseOutputs({ alb_dns_name: { value: "x" } })).toThrow(/outputs have no listener_rule_arns/);
  });

  test("refuses to send traffic to a target group without healthy targets", () => {
    const plan = planSwitch(parseOutputs(terraformOutputs), { blue: 0, green: 100 });
    expect(unhealthyDestinations(plan, { [BLUE]: 2, [GREEN]: 0 })).toEqual([GREEN]);
    expect(unhealthyDestinations(plan, { [BLUE]: 0, [GREEN]: 2 })).toEqual([]);
  });

  test("reads weights from either action form", () => {
    expect(weightsOf(buildForwardActions(BLUE, GREEN, { blue: 90, green: 10 }))).toEqual({ [BLUE]: 90, [GREEN]: 10 });
    expect(weightsOf([{ Type: "forward", TargetGroupArn: BLUE }])).toEqual({ [BLUE]: 1 });
  });

  test("applies the switch with ModifyRule and confirms it by reading the rule back", async () => {
    const plan = planSwitch(parseOutputs(terraformOutputs), { blue: 0, green: 100 });
    let actions = buildForwardActions(BLUE, GREEN, { blue: 100, green: 0 });
    const sent: string[] = [];
    const client = {
      send: async (command: unknown) => {
        sent.push((command as object).constructor.name);
        if (command instanceof DescribeTargetHealthCommand) return { TargetHealthDescriptions: [{ TargetHealth: { State: "healthy" } }] };
        if (command instanceof DescribeRulesCommand) return { Rules: [{ RuleArn: RULE, Actions: actions }] };
        if (command instanceof ModifyRuleCommand) {
          expect(command.input).toEqual({ RuleArn: RULE, Actions: plan.actions });
          actions = command.input.Actions!;
          return {};
        }
        throw new Error("unexpected command");
      },
    } as unknown as ElasticLoadBalancingV2Client;
    const lines: string[] = [];
    await applySwitch(plan, client, { force: false, log: (l) => lines.push(l) });
    expect(sent).toEqual(["DescribeTargetHealthCommand", "DescribeTargetHealthCommand", "DescribeRulesCommand", "ModifyRuleCommand", "DescribeRulesCommand"]);
    expect(lines[1]).toContain(`"${GREEN}":100`);
  });

  test("prints the request on --dry-run and exits 2 on bad arguments", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switch-"));
    const file = path.join(dir, "outputs.json");
    fs.writeFileSync(file, JSON.stringify(terraformOutputs));
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
    expect(await main(["--outputs", file, "--to", "green", "--dry-run"], io)).toBe(0);
    expect(JSON.parse(out[1])).toEqual({ RuleArn: RULE, Actions: buildForwardActions(BLUE, GREEN, { blue: 0, green: 100 }) });
    expect(await main(["--outputs", file, "--blue", "50", "--green", "49"], io)).toBe(2);
    expect(err.pop()).toMatch(/must sum to 100/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
