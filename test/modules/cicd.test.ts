import { spawnSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { Testing } from "cdktf";
import { ARTIFACT_PREFIX_LENGTH, buildSpec, Cicd, CicdProps, PipelineSettings, releaseSpec, ServicePipeline, ServicePipelineProps } from "../../modules/cicd";
import { Naming } from "../../lib/naming";
import { checkovSkips } from "../../lib/checkov";
import { evaluateStack } from "../../src/policy/aspect";
import { ACCOUNT, CONNECTION_ARN, DATA_KEY, grants, inlinePolicies, LOGS_KEY, makeCicd, newStack, policyOfRole, problemsOf, resourcesOf, synthJson } from "./fixtures";

const SOURCE_ACCOUNT = "111111111111";

/** develop: builds feature/* once and deploys itself (the default fixture). */
const DEVELOP: PipelineSettings = { kind: "build", targets: ["develop"], tagsRelease: false, manualApproval: false, branchPattern: "feature/*", trigger: "manual", releaseBranch: "feature/integration" };
/** test: builds release/*.*.* once, deploys test then QA, then tags the release. */
const RELEASE: PipelineSettings = { kind: "build", targets: ["test", "qa"], tagsRelease: true, manualApproval: false, branchPattern: "release/*.*.*", trigger: "push", releaseBranch: "release/1.0.0" };
/** prod: promotes the digest QA released, after an approval. */
const PROMOTE: PipelineSettings = {
  kind: "promote",
  targets: ["prod"],
  tagsRelease: false,
  promotesFrom: { environment: "qa", accountId: SOURCE_ACCOUNT, region: "us-east-1" },
  manualApproval: true,
  branchPattern: "prod/*",
  trigger: "push",
  releaseBranch: "prod/1.0.0",
  approvalTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:fargate-prod-warning`,
};

function pipelineProps(cicd: Cicd, naming: Naming, name = "api", overrides: Partial<ServicePipelineProps> = {}): ServicePipelineProps {
  return {
    naming,
    accountId: ACCOUNT,
    region: "us-east-1",
    cicd,
    name,
    repository: `myorg/${name}`,
    imageRepositoryName: `fargate/${name}`,
    imageRepositoryUrl: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate/${name}`,
    ...overrides,
  };
}

/** An environment's Cicd (pipeline settings `pipeline`) with one ServicePipeline per service. */
function cicdStack(pipeline: PipelineSettings = DEVELOP, services: { name: string; overrides?: Partial<ServicePipelineProps> }[] = [{ name: "api" }], cicdOverrides: Partial<CicdProps> = {}) {
  const naming = new Naming("fargate", pipeline.targets[0] ?? "develop");
  const stack = newStack();
  const cicd = makeCicd(stack, { naming, pipeline, ...cicdOverrides });
  const pipelines = services.map((s) => new ServicePipeline(stack, `pipeline-${s.name}`, pipelineProps(cicd, naming, s.name, s.overrides)));
  return { stack, cicd, pipelines, json: synthJson(stack) };
}

const pipelinesOf = (json: any) => resourcesOf(json, "aws_codepipeline").map(([, p]) => p);
const stageNames = (pipeline: any) => pipeline.stage.map((s: any) => s.name);
const actionOf = (pipeline: any, stage: string) => pipeline.stage.find((s: any) => s.name === stage).action[0];
const variablesOf = (action: any) => Object.fromEntries(JSON.parse(action.configuration.EnvironmentVariables).map((v: any) => [v.name, v.value]));
const projectsOf = (json: any) => Object.fromEntries(resourcesOf(json, "aws_codebuild_project").map(([id, p]) => [p.name, { id, ...p }]));
const actionsOf = (statements: any[]) => statements.flatMap((s) => s.actions);

describe("Cicd", () => {
  test("stores every pipeline's artifacts in one SecureBucket per environment, encrypted with the data key", () => {
    const { json } = cicdStack(DEVELOP, [{ name: "api" }, { name: "web" }]);
    expect(resourcesOf(json, "aws_s3_bucket").map(([, b]) => b.bucket)).toEqual([`fargate-develop-pipeline-artifacts-${ACCOUNT}`]);
    for (const p of pipelinesOf(json)) {
      expect(p.artifact_store).toEqual([{ type: "S3", location: expect.stringMatching(/aws_s3_bucket\.cicd_artifacts_bucket_\w+\.bucket/), encryption_key: { type: "KMS", id: DATA_KEY } }]);
    }
    expect(JSON.stringify(json)).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_public_access_block" }, { block_public_acls: true, restrict_public_buckets: true });
  });

  test("uses the account's one connection for every pipeline and creates none itself", () => {
    const { json } = cicdStack(DEVELOP, [{ name: "api" }, { name: "web" }]);
    expect(resourcesOf(json, "aws_codestarconnections_connection")).toEqual([]);
    expect(pipelinesOf(json).map((p) => p.stage[0].action[0].configuration.ConnectionArn)).toEqual([CONNECTION_ARN, CONNECTION_ARN]);
    expect(grants(json).filter((s) => s.sid === "UseSourceConnection").map((s) => s.resources)).toEqual([[CONNECTION_ARN], [CONNECTION_ARN]]);
  });

  test("writes every build's logs to one KMS-encrypted log group per environment", () => {
    const { json, cicd } = cicdStack(DEVELOP, [{ name: "api" }, { name: "web" }]);
    expect(resourcesOf(json, "aws_cloudwatch_log_group").map(([, g]) => g)).toEqual([{ name: "/fargate/develop/codebuild", retention_in_days: 7, kms_key_id: LOGS_KEY }]);
    expect(checkovSkips(cicd.buildLogGroup).get("CKV_AWS_338")).toMatch(/environment config/);
  });

  test("reports no problem for valid props of every pipeline kind", () => {
    for (const plan of [DEVELOP, RELEASE, PROMOTE]) expect(problemsOf(cicdStack(plan, [{ name: "api" }, { name: "web" }]).stack)).toEqual([]);
  });

  test.each<[string, PipelineSettings, Partial<CicdProps>, RegExp]>([
    ["branchPattern is empty", { ...DEVELOP, branchPattern: "" }, {}, /^test\/cicd: branchPattern must name the branches/],
    ["branchPattern is blank", { ...DEVELOP, branchPattern: "  " }, {}, /^test\/cicd: branchPattern must name the branches/],
    ["connectionArn is not a connection ARN", DEVELOP, { connectionArn: "arn:aws:s3:::bucket" }, /^test\/cicd: connectionArn must be a CodeConnections connection ARN; got "arn:aws:s3:::bucket"/],
    ["no connection is named (the account has none configured)", DEVELOP, { connectionArn: "" }, /^test\/cicd: connectionArn must name the account's Bitbucket connection; got none; set accounts\.<account>\.sourceConnectionArn/],
    ["deployTimeoutMinutes is out of range", DEVELOP, { deployTimeoutMinutes: 0 }, /^test\/cicd: deployTimeoutMinutes must be a whole number of minutes from 5 to 465 \(CodeBuild stops a build after 480\); got 0$/],
    ["the targets do not start with the environment", { ...RELEASE, targets: ["qa", "test"] }, { naming: new Naming("fargate", "test") }, /^test\/cicd: pipeline targets must start with this environment \(test\); got \["qa","test"\]$/],
    ["a promotion names no source", { ...PROMOTE, promotesFrom: undefined }, {}, /^test\/cicd: a promotion deploys only its own environment, from a named source/],
    ["a promotion would tag releases", { ...PROMOTE, tagsRelease: true }, {}, /^test\/cicd: a promotion never builds, so it cannot tag a release; got tagsRelease true$/],
  ])("refuses when %s", (_what, plan, overrides, message) => {
    const stack = newStack();
    makeCicd(stack, { naming: new Naming("fargate", plan.targets[0] === "qa" ? "test" : (plan.targets[0] ?? "develop")), pipeline: plan, ...overrides });
    expect(problemsOf(stack)).toEqual([expect.stringMatching(message)]);
    expect(() => Testing.synth(stack, true)).toThrow(/Validation failed with the following errors/);
  });

  test("refuses pipelines whose names share the artifact prefix, naming both services", () => {
    // "fargate-develop-" is 16 characters: these two agree on the first 20 ("fargate-develop-paym").
    const { stack } = cicdStack(DEVELOP, [{ name: "payments" }, { name: "paymaster" }, { name: "web" }]);
    expect(problemsOf(stack)).toEqual([
      `test/cicd: pipelines of "payments", "paymaster" would share the artifact prefix "fargate-develop-paym/" (CodePipeline uses the first ${ARTIFACT_PREFIX_LENGTH} characters of the name); got 2 pipelines; rename a service so the names differ earlier`,
    ]);
  });

  test("throws a NameError when the artifact bucket name would exceed 63 characters", () => {
    expect(() => makeCicd(newStack(), { naming: new Naming("averyveryverylongproject", "develop") })).toThrow(/s3Bucket name .* the AWS limit is 63/);
  });
});

describe("ServicePipeline", () => {
  test("develop: Source -> Build -> Deploy-develop, manual only (no push trigger, no change detection); a manual run takes the release branch", () => {
    const [pipeline] = pipelinesOf(cicdStack(DEVELOP).json);
    expect(pipeline).toMatchObject({ name: "fargate-develop-api", pipeline_type: "V2", execution_mode: "SUPERSEDED" });
    expect(pipeline.trigger).toBeUndefined();
    expect(stageNames(pipeline)).toEqual(["Source", "Build", "Deploy-develop"]);
    expect(actionOf(pipeline, "Source").configuration).toMatchObject({ FullRepositoryId: "myorg/api", BranchName: "feature/integration", DetectChanges: "false" });
  });

  test("test: one pipeline builds once, deploys test then QA in that order, then tags the release; a push to release/*.*.* starts it", () => {
    const { json } = cicdStack(RELEASE);
    const [pipeline] = pipelinesOf(json);
    expect(stageNames(pipeline)).toEqual(["Source", "Build", "Deploy-test", "Deploy-qa", "Release"]);
    expect(pipeline.trigger).toEqual([{ provider_type: "CodeStarSourceConnection", git_configuration: { source_action_name: "Source", push: [{ branches: { includes: ["release/*.*.*"] } }] } }]);
    expect(actionOf(pipeline, "Source").configuration.DetectChanges).toBe("true");
    const projects = projectsOf(json);
    const build = actionOf(pipeline, "Build");
    expect(build).toMatchObject({ provider: "CodeBuild", input_artifacts: ["source"], output_artifacts: ["image"], namespace: "BuildVariables", configuration: { ProjectName: expect.stringContaining(projects["fargate-test-api-build"].id) } });
    expect(variablesOf(build)).toEqual({ MODE: "build", COMMIT_ID: "#{SourceVariables.CommitId}" });
    // Every deploy hands the same built image (by digest) to the release project, one target each.
    for (const target of ["test", "qa"]) {
      const deploy = actionOf(pipeline, `Deploy-${target}`);
      expect(deploy).toMatchObject({ provider: "CodeBuild", input_artifacts: ["image"], configuration: { ProjectName: expect.stringContaining(projects["fargate-test-api-release"].id) } });
      expect(variablesOf(deploy)).toEqual({ MODE: "deploy", TARGET: target });
    }
    const release = actionOf(pipeline, "Release");
    expect(release).toMatchObject({ name: "TagRelease", input_artifacts: ["image"], configuration: { ProjectName: expect.stringContaining(projects["fargate-test-api-build"].id) } });
    expect(variablesOf(release)).toEqual({ MODE: "tag", BRANCH: "#{SourceVariables.BranchName}" });
  });

  test("prod: promotes without building: Source (prod/*) -> Resolve -> Approval (notifies the topic, shows the digest) -> Deploy-prod", () => {
    const { json, pipelines } = cicdStack(PROMOTE);
    const [pipeline] = pipelinesOf(json);
    expect(stageNames(pipeline)).toEqual(["Source", "Resolve", "Approval", "Deploy-prod"]);
    expect(pipelines[0].buildProject).toBeUndefined();
    expect(Object.keys(projectsOf(json))).toEqual(["fargate-prod-api-release"]);
    expect(variablesOf(actionOf(pipeline, "Resolve"))).toEqual({ MODE: "resolve", BRANCH: "#{SourceVariables.BranchName}", FROM_ENVIRONMENT: "qa" });
    expect(actionOf(pipeline, "Approval").configuration).toEqual({
      CustomData: expect.stringContaining("#{ResolveVariables.IMAGE_URI} (#{ResolveVariables.RELEASE_TAG})"),
      NotificationArn: PROMOTE.approvalTopicArn,
    });
    expect(grants(json).find((s) => s.sid === "NotifyApprovers")).toMatchObject({ actions: ["sns:Publish"], resources: [PROMOTE.approvalTopicArn] });
    const release = projectsOf(json)["fargate-prod-api-release"];
    expect(Object.fromEntries(release.environment.environment_variable.map((v: any) => [v.name, v.value]))).toMatchObject({ SOURCE_REGISTRY: SOURCE_ACCOUNT, SOURCE_REGION: "us-east-1", REPOSITORY_NAME: "fargate/api" });
  });

  test("an approval gate sits before the first deploy whenever manualApproval is set, and never otherwise", () => {
    expect(stageNames(pipelinesOf(cicdStack({ ...DEVELOP, manualApproval: true }).json)[0])).toEqual(["Source", "Build", "Approval", "Deploy-develop"]);
    expect(stageNames(pipelinesOf(cicdStack(RELEASE).json)[0])).not.toContain("Approval");
  });

  test("only the build project is privileged (docker build); the release project runs no Docker", () => {
    const projects = projectsOf(cicdStack(RELEASE).json);
    expect(projects["fargate-test-api-build"].environment.privileged_mode).toBe(true);
    expect(projects["fargate-test-api-release"].environment.privileged_mode).toBe(false);
    for (const p of Object.values(projects) as any[]) {
      expect(p).toMatchObject({ encryption_key: DATA_KEY, source: { type: "CODEPIPELINE" }, logs_config: { cloudwatch_logs: { status: "ENABLED", stream_name: "api" } } });
    }
  });

  test("the build role may push to its repository only: no deploy, no role passing", () => {
    const build = policyOfRole(cicdStack(RELEASE).json, "fargate-test-api-codebuild").statements;
    expect(actionsOf(build).filter((a) => /^(ecs|iam|codedeploy|ssm):/.test(a))).toEqual([]);
    expect(build.find((s) => s.sid === "PushAndTagOwnRepository").resources).toEqual([`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/fargate/api`]);
  });

  test("the release role deploys exactly its targets (services, task roles, CodeDeploy groups, release specs) and pushes nothing", () => {
    const release = policyOfRole(cicdStack(RELEASE).json, "fargate-test-api-release").statements;
    const of = (sid: string) => release.find((s) => s.sid === sid);
    expect(actionsOf(release)).not.toEqual(expect.arrayContaining(["ecr:PutImage"]));
    expect(of("DeployTargetServices").resources).toEqual([
      `arn:aws:ecs:us-east-1:${ACCOUNT}:service/fargate-test-cluster/fargate-test-api`,
      `arn:aws:ecs:us-east-1:${ACCOUNT}:service/fargate-qa-cluster/fargate-qa-api`,
    ]);
    expect(of("PassTargetTaskRoles")).toMatchObject({
      resources: ["test", "qa"].flatMap((e) => ["execution", "task", "migration-execution"].map((r) => `arn:aws:iam::${ACCOUNT}:role/fargate-${e}-api-${r}`)),
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
    });
    expect(of("RunTargetMigrations")).toMatchObject({
      actions: ["ecs:RunTask"],
      resources: ["test", "qa"].map((e) => `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-${e}-api-migration:*`),
      condition: [{ test: "ArnEquals", variable: "ecs:cluster", values: ["test", "qa"].map((e) => `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/fargate-${e}-cluster`) }],
    });
    expect(of("ReadReleaseSpecs").resources).toEqual(["test", "qa"].map((e) => `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/fargate/${e}/platform/release/api`));
    expect(of("DeployThroughCodeDeploy").resources).toEqual([
      ...["test", "qa"].flatMap((e) => [`arn:aws:codedeploy:us-east-1:${ACCOUNT}:application:fargate-${e}-api`, `arn:aws:codedeploy:us-east-1:${ACCOUNT}:deploymentgroup:fargate-${e}-api/fargate-${e}-api`]),
      `arn:aws:codedeploy:us-east-1:${ACCOUNT}:deploymentconfig:*`,
    ]);
    // Only a promotion reads the source account's release tags.
    expect(of("ReadReleaseTagsAtSource")).toBeUndefined();
    const promote = policyOfRole(cicdStack(PROMOTE).json, "fargate-prod-api-release").statements;
    expect(promote.find((s) => s.sid === "ReadReleaseTagsAtSource")).toMatchObject({ actions: ["ecr:DescribeImages"], resources: [`arn:aws:ecr:us-east-1:${SOURCE_ACCOUNT}:repository/fargate/api`] });
  });

  test("the pipeline role starts its own two projects and uses the connection; it deploys nothing itself", () => {
    const pipeline = policyOfRole(cicdStack(RELEASE).json, "fargate-test-api-codepipeline").statements;
    expect(actionsOf(pipeline).filter((a) => /^(ecs|iam|codedeploy|ecr):/.test(a))).toEqual([]);
    expect(pipeline.find((s) => s.sid === "RunProjects").resources).toEqual([expect.stringMatching(/api_release-project_\w+\.arn/), expect.stringMatching(/api_build-project_\w+\.arn/)]);
  });

  test("every role trusts its service with aws:SourceAccount, and each keeps its rights in one inline policy", () => {
    const { json } = cicdStack(RELEASE);
    expect(inlinePolicies(json).map((p) => [p.role, p.name]).sort()).toEqual([
      ["fargate-test-api-codebuild", "build-and-push"],
      ["fargate-test-api-codepipeline", "deliver"],
      ["fargate-test-api-release", "release"],
    ]);
    expect(resourcesOf(json, "aws_iam_role_policy_attachment")).toEqual([]);
    const text = JSON.stringify(json);
    expect((text.match(/aws:SourceAccount/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });

  test("both projects' and the pipeline's artifact access is the bucket and the pipeline's own prefix", () => {
    const { json } = cicdStack(DEVELOP, [{ name: "api" }, { name: "web" }]);
    for (const role of ["fargate-develop-api-codebuild", "fargate-develop-api-release", "fargate-develop-api-codepipeline"]) {
      const artifacts = policyOfRole(json, role).statements.find((s) => s.sid === "ReadWriteArtifacts");
      expect(artifacts.resources).toEqual([expect.stringMatching(/\.arn\}$/), expect.stringMatching(/\.arn\}\/fargate-develop-api\/\*$/)]);
    }
  });

  test.each<[string, PipelineSettings]>([
    ["build", RELEASE],
    ["promote", PROMOTE],
  ])("%s: the wildcards (registry login, task definitions) pass the policy pack through its allowlist, not a suppression", (_what, plan) => {
    const wildcard = evaluateStack(cicdStack(plan).stack).filter((f) => f.ruleId === "IAM-NO-WILDCARD");
    expect(wildcard.length).toBeGreaterThan(0);
    expect(wildcard.filter((f) => f.status === "non-compliant")).toEqual([]);
    expect(wildcard.filter((f) => f.status === "suppressed")).toEqual([]);
  });

  test.each<[string, Partial<ServicePipelineProps>, RegExp]>([
    ["repository is not workspace/repo", { repository: "https://bitbucket.org/myorg/api" }, /^repository must be "workspace\/repo"; got "https:\/\/bitbucket.org\/myorg\/api"/],
    ["repository has no workspace", { repository: "api" }, /^repository must be "workspace\/repo"; got "api"/],
    ["the repository URL carries a tag", { imageRepositoryUrl: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate/api:latest` }, /^imageRepositoryUrl must be an ECR repository URL without tag/],
    ["the URL is another repository's", { imageRepositoryUrl: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate/web` }, /^imageRepositoryUrl must be the URL of imageRepositoryName "fargate\/api"/],
  ])("refuses when %s", (_what, overrides, message) => {
    const { stack, pipelines } = cicdStack(DEVELOP, [{ name: "api", overrides }]);
    expect(pipelines[0].node.validate()).toEqual([expect.stringMatching(message)]);
    expect(problemsOf(stack)).toEqual([expect.stringMatching(/^test\/pipeline-api: /)]);
  });

  test("throws a NameError when a role name would exceed 64 characters", () => {
    expect(() => cicdStack(DEVELOP, [{ name: "a-service-name-long-enough-to-break-the-role-limit" }])).toThrow(/iamRole name "fargate-develop-a-service-name-long-enough-to-break-the-role-limit-\w+" is \d+ characters; the AWS limit is 64/);
  });
});

describe("the buildspecs", () => {
  test.each([["build", buildSpec()], ["release", releaseSpec()]])("%s: valid YAML for CodeBuild, with no Terraform template syntax, and refuses an unknown MODE", (_what, text) => {
    expect(text).not.toMatch(/\$\{|%\{/);
    const spec = JSON.parse(text);
    expect(spec).toMatchObject({ version: "0.2", env: { shell: "bash" }, artifacts: { files: ["imageDetail.json"] } });
    expect(spec.phases.build.commands).toHaveLength(1);
    expect(spec.phases.build.commands[0]).toMatch(/^set -e; /);
  });

  test("exports the image by digest (and the release tag) to the pipeline's variables", () => {
    expect(JSON.parse(buildSpec()).env["exported-variables"]).toEqual(["IMAGE_URI"]);
    expect(JSON.parse(releaseSpec()).env["exported-variables"]).toEqual(["IMAGE_URI", "RELEASE_TAG"]);
  });
});

describe("the buildspecs, run against a stand-in AWS CLI", () => {
  const REPOSITORY_URI = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate/api`;
  const DIGEST = "sha256:0123456789abcdef";
  const OTHER_DIGEST = "sha256:fedcba9876543210";
  const IMAGE = `${REPOSITORY_URI}@${DIGEST}`;
  const REGISTERED = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-qa-api:8`;
  const PREVIOUS = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-qa-api:7`;
  /** The config revision as `describe-task-definition --query taskDefinition` prints it. */
  const CONFIG = {
    taskDefinitionArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-qa-api:3`,
    family: "fargate-qa-api",
    revision: 3,
    status: "ACTIVE",
    taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/fargate-qa-api-task`,
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/fargate-qa-api-execution`,
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    compatibilities: ["EC2", "FARGATE"],
    requiresAttributes: [{ name: "com.amazonaws.ecs.capability.logging-driver.awslogs" }],
    cpu: "256",
    memory: "512",
    runtimePlatform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" },
    volumes: [{ name: "tmp" }],
    registeredAt: "2026-01-01T00:00:00Z",
    containerDefinitions: [
      { name: "api", image: `${REPOSITORY_URI}:bootstrap`, essential: true, environment: [{ name: "LOG_LEVEL", value: "info" }] },
      { name: "xray-daemon", image: "public.ecr.aws/xray/aws-xray-daemon:3.3.11", essential: false },
    ],
  };
  const NETWORK = { AwsvpcConfiguration: { Subnets: ["subnet-a"], SecurityGroups: ["sg-ecs"], AssignPublicIp: "DISABLED" } };
  const STRATEGY = [{ CapacityProvider: "FARGATE", Base: 1, Weight: 100 }];
  const spec = (deployWith: "ecs" | "codedeploy") =>
    JSON.stringify({
      cluster: "fargate-qa-cluster",
      service: "fargate-qa-api",
      configTaskDefinition: CONFIG.taskDefinitionArn,
      container: "api",
      containerPort: 8000,
      deployWith,
      codeDeployApplication: deployWith === "codedeploy" ? "fargate-qa-api" : "",
      codeDeployGroup: deployWith === "codedeploy" ? "fargate-qa-api" : "",
      network: NETWORK,
      capacityProviderStrategy: STRATEGY,
    });
  // A stand-in `aws`: logs each call, answers from STUB_* variables.
  const STUB_AWS = [
    "#!/usr/bin/env bash",
    'echo "aws $*" >> "$STUB_LOG"',
    'case "$1 $2" in',
    '  "ecr get-login-password") echo token ;;',
    '  "ecr describe-images")',
    '    if [[ "$*" == *imageTag=release-* ]]; then if [ -n "$STUB_RELEASE_DIGEST" ]; then echo "$STUB_RELEASE_DIGEST"; else exit 254; fi',
    '    elif [[ "$*" == *--query* ]]; then echo "$STUB_DIGEST"',
    '    elif [ -n "$STUB_IMAGE_MISSING" ]; then exit 254; fi ;;',
    '  "ecr batch-get-image") echo "{\\"manifest\\": 1}" ;;',
    '  "ecr put-image") ;;',
    '  "ssm get-parameter") echo "$STUB_SPEC" ;;',
    '  "ecs describe-task-definition") cat "$STUB_CONFIG" ;;',
    '  "ecs register-task-definition") f="${4#file://}"; cp "$f" ".registered-$f"; if [ "$f" = migration-taskdef.json ]; then echo "$STUB_MIGRATION_REGISTERED"; else echo "$STUB_REGISTERED"; fi ;;',
    '  "ecs run-task") echo "$STUB_MIGRATION_TASK" ;;',
    '  "ecs describe-tasks") echo "$STUB_MIGRATION_EXIT" ;;',
    '  "ecs update-service"|"ecs wait") ;;',
    '  "ecs describe-services") echo "$STUB_RUNNING" ;;',
    '  "deploy create-deployment") cp deployment.json .deployment.json; echo d-123 ;;',
    '  "deploy get-deployment") echo "$STUB_DEPLOYMENT_STATUS" ;;',
    '  *) echo "unexpected: aws $*" >&2; exit 2 ;;',
    "esac",
  ].join("\n");
  const STUB_DOCKER = ["#!/usr/bin/env bash", 'echo "docker $*" >> "$STUB_LOG"', "cat > /dev/null"].join("\n");
  const STUB_SLEEP = ["#!/usr/bin/env bash", 'echo "sleep $*" >> "$STUB_LOG"'].join("\n");
  const hasJq = spawnSync("jq", ["--version"]).status === 0;
  // The modes shape their files with jq (as CodeBuild's standard images have it).
  const withJq = hasJq ? test : test.skip;
  if (!hasJq) console.warn("cicd.test.ts: jq is not installed; the buildspec runs that need it are SKIPPED");
  let dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs = [];
  });

  /** Runs one mode of a buildspec in a fresh directory; `files` are the input artifact's files. */
  function run(specText: string, env: Record<string, string>, files: Record<string, string> = {}) {
    const dir = mkdtempSync(join(tmpdir(), "buildspec-"));
    dirs.push(dir);
    const bin = join(dir, ".bin");
    mkdirSync(bin);
    for (const [name, text] of [["aws", STUB_AWS], ["docker", STUB_DOCKER], ["sleep", STUB_SLEEP]]) {
      writeFileSync(join(bin, name), text);
      chmodSync(join(bin, name), 0o755);
    }
    writeFileSync(join(dir, ".config.json"), JSON.stringify(CONFIG));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const [command] = JSON.parse(specText).phases.build.commands;
    const result = spawnSync("bash", ["-c", command], {
      cwd: dir,
      encoding: "utf8",
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        STUB_LOG: join(dir, ".calls"),
        STUB_CONFIG: join(dir, ".config.json"),
        STUB_DIGEST: DIGEST,
        STUB_REGISTERED: REGISTERED,
        AWS_REGION: "us-east-1",
        SERVICE_NAME: "api",
        REPOSITORY_URI,
        REPOSITORY_NAME: "fargate/api",
        DOCKERFILE: "Dockerfile",
        PARAMETER_PREFIX: "/fargate/",
        SPEC_SUFFIX: "platform/release/api",
        WAIT_MINUTES: "30",
        ...env,
      },
    });
    const calls = existsSync(join(dir, ".calls")) ? readFileSync(join(dir, ".calls"), "utf8").trim().split("\n") : [];
    const read = (file: string) => readFileSync(join(dir, file), "utf8");
    return { status: result.status, stderr: result.stderr, stdout: result.stdout, calls, read };
  }
  const imageDetail = { "imageDetail.json": JSON.stringify({ ImageURI: IMAGE }) };

  test("an unknown MODE fails and names the valid ones", () => {
    const { status, stderr } = run(buildSpec(), { MODE: "deploy" });
    expect(status).toBe(1);
    expect(stderr).toContain("MODE must be one of build, tag; got 'deploy'");
  });

  test("build: an image already in the registry is not rebuilt; the release names it by digest", () => {
    const { status, calls, read } = run(buildSpec(), { MODE: "build", COMMIT_ID: "abc123" });
    expect(status).toBe(0);
    expect(JSON.parse(read("imageDetail.json"))).toEqual({ ImageURI: IMAGE });
    expect(calls.filter((c) => c.startsWith("docker build") || c.startsWith("docker push"))).toEqual([]);
  });

  test("build: a new commit is built and pushed once, tagged with its SHA", () => {
    const { status, calls } = run(buildSpec(), { MODE: "build", COMMIT_ID: "abc123", STUB_IMAGE_MISSING: "1" });
    expect(status).toBe(0);
    expect(calls.filter((c) => c.startsWith("docker build") || c.startsWith("docker push"))).toEqual([`docker build --file Dockerfile --tag ${REPOSITORY_URI}:abc123 .`, `docker push ${REPOSITORY_URI}:abc123`]);
  });

  test("build: fails without a commit to tag the image with", () => {
    const { status, stderr } = run(buildSpec(), { MODE: "build", COMMIT_ID: "", CODEBUILD_RESOLVED_SOURCE_VERSION: "" });
    expect(status).toBe(1);
    expect(stderr).toContain("no commit SHA to tag the image with");
  });

  withJq("tag: gives the digest QA ran the immutable tag release-x.y.z from the branch name", () => {
    const { status, calls } = run(buildSpec(), { MODE: "tag", BRANCH: "release/1.4.2" }, imageDetail);
    expect(status).toBe(0);
    expect(calls).toContain(`aws ecr put-image --repository-name fargate/api --image-tag release-1.4.2 --image-manifest {"manifest": 1}`);
  });

  withJq("tag: a tag that already names this digest is fine; one that names another digest fails the release", () => {
    const same = run(buildSpec(), { MODE: "tag", BRANCH: "release/1.4.2", STUB_RELEASE_DIGEST: DIGEST }, imageDetail);
    expect(same.status).toBe(0);
    expect(same.calls.filter((c) => c.includes("put-image"))).toEqual([]);
    const other = run(buildSpec(), { MODE: "tag", BRANCH: "release/1.4.2", STUB_RELEASE_DIGEST: OTHER_DIGEST }, imageDetail);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain(`release-1.4.2 already names ${OTHER_DIGEST} (tags are immutable); release this build as a new version x.y.z`);
  });

  test("tag: a branch without a version fails before touching the registry", () => {
    const { status, stderr, calls } = run(buildSpec(), { MODE: "tag", BRANCH: "release/next" }, imageDetail);
    expect(status).toBe(1);
    expect(stderr).toContain("branch release/next names no version x.y.z");
    expect(calls).toEqual([]);
  });

  withJq("deploy (ECS): the target's config revision with only the image swapped, rolled out and verified", () => {
    const { status, calls, read, stdout } = run(releaseSpec(), { MODE: "deploy", TARGET: "qa", STUB_SPEC: spec("ecs"), STUB_RUNNING: REGISTERED }, imageDetail);
    expect(status).toBe(0);
    expect(calls[0]).toBe("aws ssm get-parameter --name /fargate/qa/platform/release/api --query Parameter.Value --output text");
    expect(calls).toContain(`aws ecr describe-images --repository-name fargate/api --image-ids imageDigest=${DIGEST}`);
    const { taskDefinitionArn, revision, status: _status, compatibilities, requiresAttributes, registeredAt, ...registrable } = CONFIG;
    expect(JSON.parse(read(".registered-taskdef.json"))).toEqual({ ...registrable, containerDefinitions: [{ ...CONFIG.containerDefinitions[0], image: IMAGE }, CONFIG.containerDefinitions[1]] });
    const order = ["register-task-definition", `update-service --cluster fargate-qa-cluster --service fargate-qa-api --task-definition ${REGISTERED}`, "wait services-stable", "describe-services"].map((c) => calls.findIndex((x) => x.includes(c)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(stdout).toContain(`qa/fargate-qa-api runs ${REGISTERED}`);
  });

  const MIGRATION = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-qa-api-migration:2`;
  const withMigration = (deployWith: "ecs" | "codedeploy") => JSON.stringify({ ...JSON.parse(spec(deployWith)), migrationTaskDefinition: MIGRATION });
  const migrationEnv = { STUB_MIGRATION_REGISTERED: `${MIGRATION.slice(0, -1)}3`, STUB_MIGRATION_TASK: `arn:aws:ecs:us-east-1:${ACCOUNT}:task/fargate-qa-cluster/abc` };

  withJq("deploy (database client): the migrations run first with the release's image, in the target's network, and must exit 0", () => {
    const { status, calls, read } = run(releaseSpec(), { MODE: "deploy", TARGET: "qa", STUB_SPEC: withMigration("ecs"), STUB_RUNNING: REGISTERED, STUB_MIGRATION_EXIT: "0", ...migrationEnv }, imageDetail);
    expect(status).toBe(0);
    expect(JSON.parse(read(".registered-migration-taskdef.json")).containerDefinitions.map((c: any) => c.image)).toEqual([IMAGE, IMAGE]);
    const runTask = calls.find((c) => c.startsWith("aws ecs run-task"))!;
    expect(runTask).toBe(`aws ecs run-task --cluster fargate-qa-cluster --task-definition ${migrationEnv.STUB_MIGRATION_REGISTERED} --launch-type FARGATE --network-configuration {"awsvpcConfiguration":{"subnets":["subnet-a"],"securityGroups":["sg-ecs"],"assignPublicIp":"DISABLED"}} --query tasks[0].taskArn --output text`);
    // Migrations, then the release: never the other way round.
    expect(calls.findIndex((c) => c.startsWith("aws ecs describe-tasks"))).toBeLessThan(calls.findIndex((c) => c.startsWith("aws ecs update-service")));
  });

  withJq("deploy (database client): failed migrations deploy nothing", () => {
    const { status, stderr, calls } = run(releaseSpec(), { MODE: "deploy", TARGET: "qa", STUB_SPEC: withMigration("codedeploy"), STUB_MIGRATION_EXIT: "3", ...migrationEnv }, imageDetail);
    expect(status).toBe(1);
    expect(stderr).toContain(`the migrations task ${migrationEnv.STUB_MIGRATION_TASK} exited 3; nothing was deployed`);
    expect(calls.filter((c) => /update-service|create-deployment/.test(c))).toEqual([]);
  });

  withJq("deploy (ECS): fails when ECS rolled the release back (the service runs another revision)", () => {
    const { status, stderr } = run(releaseSpec(), { MODE: "deploy", TARGET: "qa", STUB_SPEC: spec("ecs"), STUB_RUNNING: PREVIOUS }, imageDetail);
    expect(status).toBe(1);
    expect(stderr).toContain(`the release was rolled back; qa/fargate-qa-api runs ${PREVIOUS}`);
  });

  withJq("deploy: refuses an image named by tag (a release is a digest)", () => {
    const { status, stderr, calls } = run(releaseSpec(), { MODE: "deploy", TARGET: "qa", STUB_SPEC: spec("ecs") }, { "imageDetail.json": JSON.stringify({ ImageURI: `${REPOSITORY_URI}:latest` }) });
    expect(status).toBe(1);
    expect(stderr).toContain(`the release names no digest: ${REPOSITORY_URI}:latest`);
    expect(calls).toEqual([]);
  });

  withJq("deploy (CodeDeploy): a deployment with the registered revision and the target's network and capacity, followed to success", () => {
    const { status, read, calls } = run(releaseSpec(), { MODE: "deploy", TARGET: "qa", STUB_SPEC: spec("codedeploy"), STUB_DEPLOYMENT_STATUS: "Succeeded", STUB_RUNNING: REGISTERED }, imageDetail);
    expect(status).toBe(0);
    const deployment = JSON.parse(read(".deployment.json"));
    expect(deployment).toMatchObject({ applicationName: "fargate-qa-api", deploymentGroupName: "fargate-qa-api", revision: { revisionType: "AppSpecContent" } });
    expect(JSON.parse(deployment.revision.appSpecContent.content).Resources).toEqual([
      { TargetService: { Type: "AWS::ECS::Service", Properties: { TaskDefinition: REGISTERED, LoadBalancerInfo: { ContainerName: "api", ContainerPort: 8000 }, NetworkConfiguration: NETWORK, CapacityProviderStrategy: STRATEGY } } },
    ]);
    expect(calls.filter((c) => c.startsWith("aws ecs update-service"))).toEqual([]);
  });

  withJq("deploy (CodeDeploy): a failed or rolled-back deployment fails the stage", () => {
    const { status, stderr } = run(releaseSpec(), { MODE: "deploy", TARGET: "qa", STUB_SPEC: spec("codedeploy"), STUB_DEPLOYMENT_STATUS: "Failed" }, imageDetail);
    expect(status).toBe(1);
    expect(stderr).toContain("deployment d-123 ended Failed (CodeDeploy rolled back)");
  });

  withJq("resolve: the digest release-x.y.z names at the source, once it replicated here, by this account's repository", () => {
    const { status, read, calls, stdout } = run(releaseSpec(), { MODE: "resolve", BRANCH: "prod/1.4.2", FROM_ENVIRONMENT: "qa", SOURCE_REGISTRY: SOURCE_ACCOUNT, SOURCE_REGION: "us-east-1", STUB_RELEASE_DIGEST: DIGEST });
    expect(status).toBe(0);
    expect(calls[0]).toBe(`aws ecr describe-images --registry-id ${SOURCE_ACCOUNT} --region us-east-1 --repository-name fargate/api --image-ids imageTag=release-1.4.2 --query imageDetails[0].imageDigest --output text`);
    expect(calls[1]).toBe(`aws ecr describe-images --repository-name fargate/api --image-ids imageDigest=${DIGEST}`);
    expect(JSON.parse(read("imageDetail.json"))).toEqual({ ImageURI: IMAGE });
    expect(stdout).toContain(`release-1.4.2 is ${IMAGE}, as qa ran it`);
  });

  withJq("resolve: a version QA never released fails with what to do", () => {
    const { status, stderr } = run(releaseSpec(), { MODE: "resolve", BRANCH: "prod/9.9.9", FROM_ENVIRONMENT: "qa", SOURCE_REGISTRY: SOURCE_ACCOUNT, SOURCE_REGION: "us-east-1" });
    expect(status).toBe(1);
    expect(stderr).toContain(`release-9.9.9 was never released through qa (no such tag in registry ${SOURCE_ACCOUNT}); finish the release there first`);
  });

  withJq("resolve: waits for replication, and gives up with a clear message", () => {
    const { status, stderr, calls } = run(releaseSpec(), { MODE: "resolve", BRANCH: "prod/1.4.2", FROM_ENVIRONMENT: "qa", SOURCE_REGISTRY: SOURCE_ACCOUNT, SOURCE_REGION: "us-east-1", STUB_RELEASE_DIGEST: DIGEST, STUB_IMAGE_MISSING: "1" });
    expect(status).toBe(1);
    expect(stderr).toContain(`${DIGEST} has not replicated into fargate/api`);
    expect(calls.filter((c) => c.startsWith("sleep"))).toHaveLength(29);
  });
});
