import { formatReview, PlanResourceChange, reviewExitCode, reviewPlan } from "../../src/plan-review";

const change = (address: string, actions: string[], before: Record<string, unknown> | null, after: Record<string, unknown> | null, extra: Partial<PlanResourceChange> = {}): PlanResourceChange => ({
  address,
  type: address.split(".")[0],
  mode: "managed",
  change: { actions, before, after },
  ...extra,
});
const policy = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

describe("reviewPlan", () => {
  test("refuses a plan that replaces the database, naming the attribute that forces it", () => {
    const plan = {
      resource_changes: [
        change("aws_db_instance.rds_postgres", ["delete", "create"], { engine: "postgres", identifier: "a" }, { engine: "postgres", identifier: "b" }, {
          change: { actions: ["delete", "create"], before: { identifier: "a" }, after: { identifier: "b" }, replace_paths: [["identifier"]] },
          action_reason: "replace_because_cannot_update",
        }),
      ],
    };
    const review = reviewPlan(plan);
    expect(review.stateful).toEqual([{ address: "aws_db_instance.rds_postgres", what: "replace the database (forced by identifier)", acknowledged: false }]);
    expect(reviewExitCode(review)).toBe(2);
    expect(formatReview(review)).toContain("REFUSED: 1 stateful resource(s) would be destroyed or replaced. If that is intended, rerun with --ack aws_db_instance.rds_postgres");
  });

  test("an acknowledged stateful change passes, and is still shown", () => {
    const plan = { resource_changes: [change("aws_s3_bucket.logs", ["delete"], { bucket: "x" }, null)] };
    const review = reviewPlan(plan, ["aws_s3_bucket.logs"]);
    expect(reviewExitCode(review)).toBe(0);
    expect(formatReview(review)).toContain("aws_s3_bucket.logs: destroy a bucket and its objects  [acknowledged]");
  });

  test("reports IAM statements a change adds (and not the ones it keeps or drops)", () => {
    const before = policy([{ Effect: "Allow", Action: ["ssm:GetParameters"], Resource: ["arn:a"] }]);
    const after = policy([{ Effect: "Allow", Action: ["ssm:GetParameters"], Resource: ["arn:a", "arn:b"] }, { Effect: "Allow", Action: "s3:*", Resource: "*" }]);
    const narrowing = policy([]);
    const review = reviewPlan({
      resource_changes: [
        change("aws_iam_role_policy.wider", ["update"], { policy: before }, { policy: after }),
        change("aws_iam_role_policy.narrower", ["update"], { policy: before }, { policy: narrowing }),
      ],
    });
    expect(review.widening).toEqual([{ address: "aws_iam_role_policy.wider", what: "allows ssm:GetParameters on arn:b; allows s3:* on *" }]);
    expect(review.other).toEqual([{ address: "aws_iam_role_policy.narrower", what: "update" }]);
    expect(reviewExitCode(review)).toBe(0);
  });

  test("flags what becomes public: an internet ingress rule, a public database, tasks with public IPs", () => {
    const review = reviewPlan({
      resource_changes: [
        change("aws_vpc_security_group_ingress_rule.open", ["create"], null, { cidr_ipv4: "0.0.0.0/0", ip_protocol: "tcp", from_port: 22, to_port: 22 }),
        change("aws_db_instance.db", ["update"], { publicly_accessible: false }, { publicly_accessible: true }),
        change("aws_ecs_service.api", ["update"], { network_configuration: [{ assign_public_ip: false }] }, { network_configuration: [{ assign_public_ip: true }] }),
      ],
    });
    expect(review.public.map((f) => f.what)).toEqual(["ingress from the internet on tcp/22", "database becomes publicly accessible", "tasks get public IPs"]);
    expect(review.widening.map((f) => f.address)).toEqual(["aws_vpc_security_group_ingress_rule.open"]);
  });

  test("lists service changes and ignores no-ops and data reads", () => {
    const review = reviewPlan({
      resource_changes: [
        change("aws_ecs_task_definition.api", ["delete", "create"], { cpu: "256" }, { cpu: "512" }, { change: { actions: ["delete", "create"], before: {}, after: {}, replace_paths: [["cpu"]] } }),
        change("aws_lb_target_group.api", ["create"], null, { port: 8080 }),
        change("aws_vpc.main", ["no-op"], {}, {}),
        { ...change("aws_iam_policy_document.x", ["read"], null, {}), mode: "data" },
      ],
    });
    expect(review.services).toEqual([
      { address: "aws_ecs_task_definition.api", what: "replace (forced by cpu)" },
      { address: "aws_lb_target_group.api", what: "create" },
    ]);
    expect(review.counts).toEqual({ create: 1, update: 0, replace: 1, delete: 0 });
  });
});
