import { Testing } from "cdktf";
import { ARTIFACT_PREFIX_LENGTH, buildSpec, Cicd, CicdProps, ServicePipeline, ServicePipelineProps } from "../../modules/cicd";
import { Naming } from "../../lib/naming";
import { checkovSkips } from "../../lib/checkov";
import { evaluateStack } from "../../src/policy/aspect";
import { ACCOUNT, DATA_KEY, inlinePolicies, LOGS_KEY, makeCicd, newStack, policyOfRole, problemsOf, resourcesOf, synthJson, synthText } from "./fixtures";

const naming = new Naming("fargate", "develop");

/** One service's delivery (`name` drives every physical name; the rest follows it). */
function pipelineProps(cicd: Cicd, name = "api", overrides: Partial<ServicePipelineProps> = {}): ServicePipelineProps {
  return {
    naming,
    accountId: ACCOUNT,
    region: "us-east-1",
    cicd,
    name,
    repository: `myorg/${name}`,
    ecrRepositoryArn: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/fargate-develop/${name}`,
    ecrRepositoryUrl: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate-develop/${name}`,
    clusterName: "fargate-develop-cluster",
    serviceName: `fargate-develop-${name}`,
    containerName: name,
    taskRoleArns: [`arn:aws:iam::${ACCOUNT}:role/fargate-develop-${name}-execution`, `arn:aws:iam::${ACCOUNT}:role/fargate-develop-${name}-task`],
    ...overrides,
  };
}

/** An environment's Cicd with one ServicePipeline per entry (`api` alone by default). */
function cicdStack(cicdOverrides: Partial<CicdProps> = {}, services: { name: string; overrides?: Partial<ServicePipelineProps> }[] = [{ name: "api" }]) {
  const stack = newStack();
  const cicd = makeCicd(stack, { naming, ...cicdOverrides });
  const pipelines = services.map((s) => new ServicePipeline(stack, `pipeline-${s.name}`, pipelineProps(cicd, s.name, s.overrides)));
  return { stack, cicd, pipelines };
}
const withApi = (overrides: Partial<ServicePipelineProps>) => [{ name: "api", overrides }];

const pipelinesOf = (json: any) => resourcesOf(json, "aws_codepipeline").map(([, p]) => p);
const stageNames = (pipeline: any) => pipeline.stage.map((s: any) => s.name);
/** Every Allow statement of the stack's inline role policies, with the role it is on. */
const grants = (json: any) => inlinePolicies(json).flatMap((p) => p.statements.map((s) => ({ role: p.role, ...s })));
const objectsOf = (statement: any): string[] => statement.resources.filter((r: string) => r.includes("/"));

describe("Cicd", () => {
  test("creates a Bitbucket connection by default, used by every pipeline", () => {
    const { stack } = cicdStack({}, [{ name: "api" }, { name: "web" }]);
    const text = synthText(stack);
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_codestarconnections_connection" }, { name: "fargate-develop-bitbucket", provider_type: "Bitbucket" });
    const json = JSON.parse(text);
    expect(resourcesOf(json, "aws_codestarconnections_connection")).toHaveLength(1);
    const sources = pipelinesOf(json).map((p) => p.stage[0].action[0].configuration.ConnectionArn);
    expect(sources).toHaveLength(2);
    for (const arn of sources) expect(arn).toMatch(/^\$\{aws_codestarconnections_connection\.cicd_connection_\w+\.arn\}$/);
  });

  test("uses the given connection and creates none", () => {
    const arn = `arn:aws:codeconnections:us-east-1:${ACCOUNT}:connection/abc-123`;
    const json = synthJson(cicdStack({ connectionArn: arn }).stack);
    expect(resourcesOf(json, "aws_codestarconnections_connection")).toEqual([]);
    expect(pipelinesOf(json)[0].stage[0].action[0].configuration).toMatchObject({ ConnectionArn: arn, FullRepositoryId: "myorg/api", BranchName: "main" });
    expect(grants(json).find((s) => s.sid === "UseSourceConnection")!.resources).toEqual([arn]);
  });

  test("stores every pipeline's artifacts in one SecureBucket per environment, encrypted with the data key", () => {
    const { stack } = cicdStack({}, [{ name: "api" }, { name: "web" }]);
    const json = synthJson(stack);
    const text = JSON.stringify(json);
    expect(resourcesOf(json, "aws_s3_bucket").map(([, b]) => b.bucket)).toEqual([`fargate-develop-pipeline-artifacts-${ACCOUNT}`]);
    const stores = pipelinesOf(json).map((p) => p.artifact_store);
    expect(stores).toHaveLength(2);
    for (const store of stores) {
      expect(store).toEqual([{ type: "S3", location: expect.stringMatching(/aws_s3_bucket\.cicd_artifacts_bucket_\w+\.bucket/), encryption_key: { type: "KMS", id: DATA_KEY } }]);
    }
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_server_side_encryption_configuration" }, {
      rule: [expect.objectContaining({ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: DATA_KEY } })],
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_public_access_block" }, { block_public_acls: true, restrict_public_buckets: true });
  });

  test("writes every build's logs to one KMS-encrypted log group per environment", () => {
    const { stack, cicd } = cicdStack({}, [{ name: "api" }, { name: "web" }]);
    const json = synthJson(stack);
    expect(resourcesOf(json, "aws_cloudwatch_log_group").map(([, g]) => g)).toEqual([{ name: "/fargate/develop/codebuild", retention_in_days: 7, kms_key_id: LOGS_KEY }]);
    expect(checkovSkips(cicd.buildLogGroup).get("CKV_AWS_338")).toMatch(/environment config/);
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(cicdStack({}, [{ name: "api" }, { name: "web" }]).stack)).toEqual([]);
  });

  test.each<[string, Partial<CicdProps>, RegExp]>([
    ["branchPattern is empty", { branchPattern: "" }, /^test\/cicd: branchPattern must name the branches/],
    ["branchPattern is blank", { branchPattern: "  " }, /^test\/cicd: branchPattern must name the branches/],
    ["connectionArn is not a connection ARN", { connectionArn: "arn:aws:s3:::bucket" }, /^test\/cicd: connectionArn must be a CodeConnections connection ARN; got "arn:aws:s3:::bucket"/],
    ["deployTimeoutMinutes is out of range", { deployTimeoutMinutes: 0 }, /^test\/cicd: deployTimeoutMinutes must be a whole number of minutes from 1 to 60; got 0$/],
  ])("refuses when %s", (_what, overrides, message) => {
    const { stack } = cicdStack(overrides);
    expect(problemsOf(stack)).toEqual([expect.stringMatching(message)]);
    expect(() => Testing.synth(stack, true)).toThrow(/Validation failed with the following errors/);
  });

  test("refuses pipelines whose names share the artifact prefix, naming both services", () => {
    // "fargate-develop-" is 16 characters: these two agree on the first 20 ("fargate-develop-paym").
    const { stack } = cicdStack({}, [{ name: "payments" }, { name: "paymaster" }, { name: "web" }]);
    expect(problemsOf(stack)).toEqual([
      `test/cicd: pipelines of "payments", "paymaster" would share the artifact prefix "fargate-develop-paym/" (CodePipeline uses the first ${ARTIFACT_PREFIX_LENGTH} characters of the name); got 2 pipelines; rename a service so the names differ earlier`,
    ]);
  });

  test("claims the first 20 characters of a pipeline name as its artifact prefix", () => {
    const { cicd } = cicdStack({}, []);
    expect(cicd.claimArtifactPrefix("fargate-develop-payments-gateway", "payments-gateway")).toBe("fargate-develop-paym");
    expect(cicd.claimArtifactPrefix("fargate-develop-api", "api")).toBe("fargate-develop-api");
    expect(problemsOf(cicd)).toEqual([]);
  });

  test("throws when the created connection's name would exceed 32 characters", () => {
    expect(() => cicdStack({ naming: new Naming("averylongprojectname", "develop") }, [])).toThrow(/connection name "averylongprojectname-develop-bitbucket" is 38 characters; CodeConnections allows 32/);
    expect(() => cicdStack({ naming: new Naming("averylongprojectname", "develop"), connectionArn: `arn:aws:codeconnections:us-east-1:${ACCOUNT}:connection/abc` }, [])).not.toThrow();
  });

  test("throws a NameError when the artifact bucket name would exceed 63 characters", () => {
    expect(() => cicdStack({ naming: new Naming("averyveryverylongproject", "develop") }, [])).toThrow(/s3Bucket name .* the AWS limit is 63/);
  });
});

describe("ServicePipeline", () => {
  test("creates a V2 pipeline by default, triggered only by pushes matching the branch pattern", () => {
    expect(synthText(cicdStack({ branchPattern: "release/*.*.*" }).stack)).toHaveResourceWithProperties({ tfResourceType: "aws_codepipeline" }, {
      name: "fargate-develop-api",
      pipeline_type: "V2",
      execution_mode: "SUPERSEDED",
      trigger: [
        expect.objectContaining({
          provider_type: "CodeStarSourceConnection",
          git_configuration: expect.objectContaining({ source_action_name: "Source", push: [expect.objectContaining({ branches: { includes: ["release/*.*.*"] } })] }),
        }),
      ],
    });
  });

  test("runs Source -> Build -> Deploy without approval, and rolls the Deploy stage back on failure", () => {
    const [pipeline] = pipelinesOf(synthJson(cicdStack().stack));
    expect(stageNames(pipeline)).toEqual(["Source", "Build", "Deploy"]);
    const deploy = pipeline.stage[2];
    expect(deploy.on_failure).toEqual({ result: "ROLLBACK" });
    expect(deploy.action[0]).toMatchObject({
      category: "Deploy",
      provider: "ECS",
      input_artifacts: ["imagedefinitions"],
      configuration: { ClusterName: "fargate-develop-cluster", ServiceName: "fargate-develop-api", FileName: "imagedefinitions.json", DeploymentTimeout: "30" },
    });
    expect(JSON.parse(pipeline.stage[1].action[0].configuration.EnvironmentVariables)).toEqual([{ name: "COMMIT_ID", value: "#{SourceVariables.CommitId}", type: "PLAINTEXT" }]);
  });

  test("inserts a manual approval stage before Deploy iff manualApproval, notifying the topic", () => {
    const topic = `arn:aws:sns:us-east-1:${ACCOUNT}:fargate-develop-alarms`;
    const json = synthJson(cicdStack({ manualApproval: true, branchPattern: "prod/*", approvalTopicArn: topic }).stack);
    const [pipeline] = pipelinesOf(json);
    expect(stageNames(pipeline)).toEqual(["Source", "Build", "Approval", "Deploy"]);
    expect(pipeline.stage[2].action[0]).toMatchObject({ category: "Approval", provider: "Manual", name: "ManualApproval", configuration: { NotificationArn: topic } });
    expect(grants(json).find((s) => s.sid === "NotifyApprovers")!.resources).toEqual([topic]);
    // Without manual approval there is no approval stage and no publish right.
    const plain = synthJson(cicdStack().stack);
    expect(pipelinesOf(plain).flatMap((p) => stageNames(p))).not.toContain("Approval");
    expect(grants(plain).find((s) => s.sid === "NotifyApprovers")).toBeUndefined();
  });

  test("blue/green: deploys to the candidate slot, then promotes the same image to live after approval", () => {
    const json = synthJson(cicdStack({}, withApi({ serviceName: "fargate-develop-api-green", promoteTo: { serviceName: "fargate-develop-api-blue" } })).stack);
    const [pipeline] = pipelinesOf(json);
    expect(stageNames(pipeline)).toEqual(["Source", "Build", "Deploy", "Promote", "DeployLive"]);
    const [, , deploy, promote, live] = pipeline.stage;
    expect(deploy.action[0].configuration.ServiceName).toBe("fargate-develop-api-green");
    expect(promote.action[0]).toMatchObject({ category: "Approval", provider: "Manual" });
    expect(live.action[0].configuration.ServiceName).toBe("fargate-develop-api-blue");
    expect(live.action[0].input_artifacts).toEqual(["imagedefinitions"]);
    expect(live.on_failure).toEqual({ result: "ROLLBACK" });
    // The pipeline role may update exactly these two services and tag their families' revisions.
    const statements = grants(json);
    expect(statements.find((st) => st.sid === "UpdateOwnService")!.resources).toEqual([
      `arn:aws:ecs:us-east-1:${ACCOUNT}:service/fargate-develop-cluster/fargate-develop-api-green`,
      `arn:aws:ecs:us-east-1:${ACCOUNT}:service/fargate-develop-cluster/fargate-develop-api-blue`,
    ]);
    expect(statements.find((st) => st.sid === "TagNewRevisions")!.resources).toEqual([
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-develop-api-green:*`,
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-develop-api-blue:*`,
    ]);
  });

  test("builds in a privileged LINUX_CONTAINER with KMS-encrypted output, logging to its own streams of the environment's group", () => {
    expect(synthText(cicdStack().stack)).toHaveResourceWithProperties({ tfResourceType: "aws_codebuild_project" }, {
      name: "fargate-develop-api-build",
      encryption_key: DATA_KEY,
      source: expect.objectContaining({ type: "CODEPIPELINE" }),
      artifacts: expect.objectContaining({ type: "CODEPIPELINE" }),
      environment: expect.objectContaining({
        type: "LINUX_CONTAINER",
        image: "aws/codebuild/standard:7.0",
        privileged_mode: true,
        environment_variable: expect.arrayContaining([
          { name: "REPOSITORY_URI", value: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate-develop/api`, type: "PLAINTEXT" },
          { name: "CONTAINER_NAME", value: "api", type: "PLAINTEXT" },
        ]),
      }),
      logs_config: expect.objectContaining({
        cloudwatch_logs: { status: "ENABLED", group_name: expect.stringMatching(/aws_cloudwatch_log_group\.cicd_build-log-group_\w+\.name/), stream_name: "api" },
      }),
    });
  });

  test("the buildspec logs in to ECR, tags with the commit SHA, pushes and writes imagedefinitions.json", () => {
    const spec = JSON.parse(buildSpec());
    const all = [...spec.phases.pre_build.commands, ...spec.phases.build.commands, ...spec.phases.post_build.commands].join("\n");
    expect(all).toContain("aws ecr get-login-password");
    expect(all).toContain('IMAGE_TAG="$COMMIT_ID"');
    expect(all).toContain('docker push "$REPOSITORY_URI:$IMAGE_TAG"');
    expect(all).toContain("imagedefinitions.json");
    expect(spec.artifacts.files).toEqual(["imagedefinitions.json"]);
    // Terraform would read these as template syntax inside the JSON string.
    expect(buildSpec()).not.toMatch(/\$\{|%\{/);
  });

  test("roles trust their service with aws:SourceAccount", () => {
    const json = synthJson(cicdStack().stack);
    const trusts = Object.values<any>(json.data.aws_iam_policy_document)
      .flatMap((d) => d.statement)
      .filter((s) => s.actions?.includes("sts:AssumeRole"));
    expect(trusts.map((s: any) => s.principals[0].identifiers[0]).sort()).toEqual(["codebuild.amazonaws.com", "codepipeline.amazonaws.com"]);
    for (const t of trusts) expect(t.condition).toEqual([{ test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] }]);
  });

  test('IAM is least privilege: Resource "*" only for the actions AWS authorizes on nothing else', () => {
    const json = synthJson(cicdStack().stack);
    const all = grants(json);
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((s) => s.effect === "Allow")).toBe(true);
    const wildcard = all.filter((s) => s.resources.includes("*"));
    expect(wildcard.flatMap((s) => s.actions).sort()).toEqual(["ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]);
    for (const s of all) expect(s.actions.some((a: string) => a === "*" || a.endsWith(":*"))).toBe(false);

    const bySid = (sid: string) => all.filter((s) => s.sid === sid);
    expect(bySid("PushToOwnRepository")[0].resources).toEqual([`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/fargate-develop/api`]);
    expect(bySid("PushToOwnRepository")[0].actions).toContain("ecr:PutImage");
    expect(bySid("WriteBuildLogs")[0].resources).toEqual([expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.cicd_build-log-group_\w+\.arn\}:log-stream:api\/\*$/)]);
    for (const s of bySid("UseDataKey")) expect(s.resources).toEqual([DATA_KEY]);
    expect(bySid("UpdateOwnService")[0].resources).toEqual([`arn:aws:ecs:us-east-1:${ACCOUNT}:service/fargate-develop-cluster/fargate-develop-api`]);
    expect(bySid("WatchOwnTasks")[0].resources).toEqual([`arn:aws:ecs:us-east-1:${ACCOUNT}:task/fargate-develop-cluster/*`]);
    expect(bySid("RunBuild")[0].resources).toEqual([expect.stringMatching(/^\$\{aws_codebuild_project\.pipeline-api_build-project_\w+\.arn\}$/)]);
    expect(bySid("TagNewRevisions")[0]).toMatchObject({
      resources: [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-develop-api:*`],
      condition: [{ test: "StringEquals", variable: "ecs:CreateAction", values: ["RegisterTaskDefinition"] }],
    });
    expect(bySid("PassOwnTaskRoles")[0]).toMatchObject({
      actions: ["iam:PassRole"],
      resources: [`arn:aws:iam::${ACCOUNT}:role/fargate-develop-api-execution`, `arn:aws:iam::${ACCOUNT}:role/fargate-develop-api-task`],
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
    });
  });

  test("scopes both roles' artifact access to the bucket and the pipeline's own prefix", () => {
    const json = synthJson(cicdStack({}, [{ name: "api" }, { name: "payments-gateway" }]).stack);
    const bucketArn = expect.stringMatching(/^\$\{aws_s3_bucket\.cicd_artifacts_bucket_\w+\.arn\}$/);
    const own = (prefix: string) => expect.stringMatching(new RegExp(`^\\$\\{aws_s3_bucket\\.cicd_artifacts_bucket_\\w+\\.arn\\}/${prefix}/\\*$`));
    const cases: [string, string][] = [
      ["fargate-develop-api-codebuild", "fargate-develop-api"],
      ["fargate-develop-api-codepipeline", "fargate-develop-api"],
      // The first 20 characters of "fargate-develop-payments-gateway", as CodePipeline writes them.
      ["fargate-develop-payments-gateway-codebuild", "fargate-develop-paym"],
      ["fargate-develop-payments-gateway-codepipeline", "fargate-develop-paym"],
    ];
    for (const [role, prefix] of cases) {
      const artifacts = policyOfRole(json, role).statements.filter((s) => s.sid === "ReadWriteArtifacts");
      expect([role, artifacts.map((s) => s.resources)]).toEqual([role, [[bucketArn, own(prefix)]]]);
      // No other statement of the role reaches into the bucket.
      const elsewhere = policyOfRole(json, role).statements.filter((s) => s.sid !== "ReadWriteArtifacts").flatMap(objectsOf);
      expect(elsewhere.filter((r) => r.includes("aws_s3_bucket"))).toEqual([]);
    }
  });

  test("keeps the task-definition registration inside the pipeline role's one policy", () => {
    const json = synthJson(cicdStack().stack);
    expect(inlinePolicies(json).map((p) => [p.role, p.name]).sort()).toEqual([
      ["fargate-develop-api-codebuild", "build-and-push"],
      ["fargate-develop-api-codepipeline", "deliver"],
    ]);
    expect(resourcesOf(json, "aws_iam_policy")).toEqual([]);
    expect(resourcesOf(json, "aws_iam_role_policy_attachment")).toEqual([]);
    expect(policyOfRole(json, "fargate-develop-api-codepipeline").statements).toEqual(
      expect.arrayContaining([{ sid: "RegisterTaskDefinitionRevision", effect: "Allow", actions: ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"], resources: ["*"] }]),
    );
  });

  test("the task-definition wildcard passes the policy pack through its allowlist, not a suppression", () => {
    const { stack } = cicdStack();
    const wildcard = evaluateStack(stack).filter((f) => f.ruleId === "IAM-NO-WILDCARD");
    expect(wildcard.length).toBeGreaterThan(0);
    expect(wildcard.filter((f) => f.status === "non-compliant")).toEqual([]);
    expect(wildcard.filter((f) => f.status === "suppressed")).toEqual([]);
  });

  test("creates one pipeline, build project and pair of roles per service", () => {
    const json = synthJson(cicdStack({}, [{ name: "api" }, { name: "web" }]).stack);
    expect(pipelinesOf(json).map((p) => p.name).sort()).toEqual(["fargate-develop-api", "fargate-develop-web"]);
    expect(resourcesOf(json, "aws_codebuild_project").map(([, p]) => p.name).sort()).toEqual(["fargate-develop-api-build", "fargate-develop-web-build"]);
    expect(resourcesOf(json, "aws_iam_role").map(([, r]) => r.name).sort()).toEqual([
      "fargate-develop-api-codebuild",
      "fargate-develop-api-codepipeline",
      "fargate-develop-web-codebuild",
      "fargate-develop-web-codepipeline",
    ]);
  });

  test.each<[string, Partial<ServicePipelineProps>, RegExp]>([
    ["repository is not workspace/repo", { repository: "https://bitbucket.org/myorg/api" }, /^repository must be "workspace\/repo"; got "https:\/\/bitbucket.org\/myorg\/api"/],
    ["repository has no workspace", { repository: "api" }, /^repository must be "workspace\/repo"; got "api"/],
    ["promoteTo names the candidate service itself", { promoteTo: { serviceName: "fargate-develop-api" } }, /^promoteTo\.serviceName must differ from serviceName/],
    ["taskRoleArns is empty", { taskRoleArns: [] }, /^taskRoleArns must list/],
    ["a task role is not a role ARN", { taskRoleArns: ["*"] }, /^taskRoleArns must be IAM role ARNs; got "\*"$/],
    ["the ECR URL carries a tag", { ecrRepositoryUrl: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate-develop/api:latest` }, /^ecrRepositoryUrl must be an ECR repository URL without tag/],
    ["serviceName is empty", { serviceName: "" }, /^serviceName is required/],
    ["clusterName is empty", { clusterName: "" }, /^clusterName is required/],
    ["ecrRepositoryArn is empty", { ecrRepositoryArn: "" }, /^ecrRepositoryArn is required/],
    ["containerName is empty", { containerName: "" }, /^containerName must name the container/],
  ])("refuses when %s", (_what, overrides, message) => {
    const { stack, pipelines } = cicdStack({}, withApi(overrides));
    expect(pipelines[0].node.validate()).toEqual([expect.stringMatching(message)]);
    expect(problemsOf(stack)).toEqual([expect.stringMatching(/^test\/pipeline-api: /)]);
  });

  test("throws a NameError when a role name would exceed 64 characters", () => {
    expect(() => cicdStack({}, [{ name: "a-service-name-long-enough-to-break-the-role-limit" }])).toThrow(/iamRole name "fargate-develop-a-service-name-long-enough-to-break-the-role-limit-codebuild" is \d+ characters; the AWS limit is 64/);
  });
});
