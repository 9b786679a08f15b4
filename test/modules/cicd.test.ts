import { spawnSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { Testing } from "cdktf";
import { ARTIFACT_PREFIX_LENGTH, buildSpec, Cicd, CicdProps, ServicePipeline, ServicePipelineProps } from "../../modules/cicd";
import { Naming } from "../../lib/naming";
import { checkovSkips } from "../../lib/checkov";
import { evaluateStack } from "../../src/policy/aspect";
import { ACCOUNT, DATA_KEY, grants, inlinePolicies, LOGS_KEY, makeCicd, newStack, policyOfRole, problemsOf, resourcesOf, synthJson, synthText } from "./fixtures";

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
    configTaskDefinitionArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-develop-${name}:3`,
    containerPort: 8000,
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

/** The CodeDeploy side of a blue/green service's delivery. */
const codeDeploy: NonNullable<ServicePipelineProps["codeDeploy"]> = {
  applicationName: "fargate-develop-api",
  deploymentGroupName: "fargate-develop-api",
  appSpecNetwork: { subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-ecs"], assignPublicIp: false },
  capacityProviderStrategy: [
    { capacityProvider: "FARGATE", base: 1, weight: 70 },
    { capacityProvider: "FARGATE_SPOT", weight: 30 },
  ],
};

const pipelinesOf = (json: any) => resourcesOf(json, "aws_codepipeline").map(([, p]) => p);
const stageNames = (pipeline: any) => pipeline.stage.map((s: any) => s.name);
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
    expect(pipelinesOf(json)[0].stage[0].action[0].configuration).toMatchObject({ ConnectionArn: arn, FullRepositoryId: "myorg/api", BranchName: "feature/integration", DetectChanges: "true" });
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


const stageOf = (pipeline: any, name: string) => pipeline.stage.find((s: any) => s.name === name);
const envOf = (json: any): Record<string, string> => Object.fromEntries(resourcesOf(json, "aws_codebuild_project")[0][1].environment.environment_variable.map((v: any) => [v.name, v.value]));
/** The buildspec's one command, split into its deploy-mode and build-mode halves. */
function buildSpecModes(): { deploy: string; build: string } {
  const [command] = JSON.parse(buildSpec()).phases.build.commands;
  const [, deploy, build] = /^if \[ "\$MODE" = deploy \]; then (.*?); else (.*); fi$/.exec(command) ?? [];
  if (!deploy || !build) throw new Error(`buildspec is not "if deploy mode; then ...; else ...; fi": ${command}`);
  return { deploy, build };
}

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

  test("a manual environment (develop) has no push trigger, and its source detects no changes; manual starts build the release branch", () => {
    const [pipeline] = pipelinesOf(synthJson(cicdStack({ trigger: "manual", releaseBranch: "feature/integration" }).stack));
    expect(pipeline.trigger).toBeUndefined();
    expect(stageOf(pipeline, "Source").action[0].configuration).toMatchObject({ DetectChanges: "false", BranchName: "feature/integration" });
  });

  test("runs Source -> Build -> Deploy without approval; the Build action hands the release artifact to Deploy", () => {
    const [pipeline] = pipelinesOf(synthJson(cicdStack().stack));
    expect(stageNames(pipeline)).toEqual(["Source", "Build", "Deploy"]);
    const build = stageOf(pipeline, "Build").action[0];
    expect(build).toMatchObject({ provider: "CodeBuild", input_artifacts: ["source"], output_artifacts: ["release"] });
    expect(JSON.parse(build.configuration.EnvironmentVariables)).toEqual([{ name: "COMMIT_ID", value: "#{SourceVariables.CommitId}", type: "PLAINTEXT" }]);
    expect(stageOf(pipeline, "Deploy").action[0].input_artifacts).toEqual(["release"]);
  });

  test("rolling: deploys with the same build project in deploy mode, so ECS runs the rollout and its rollback", () => {
    const [pipeline] = pipelinesOf(synthJson(cicdStack().stack));
    const deploy = stageOf(pipeline, "Deploy").action[0];
    expect(deploy).toMatchObject({ name: "Deploy", category: "Build", owner: "AWS", provider: "CodeBuild", input_artifacts: ["release"] });
    expect(deploy.configuration.ProjectName).toBe(stageOf(pipeline, "Build").action[0].configuration.ProjectName);
    expect(JSON.parse(deploy.configuration.EnvironmentVariables)).toEqual([{ name: "MODE", value: "deploy", type: "PLAINTEXT" }]);
  });

  test("blue/green: deploys through CodeDeploy with the release's task definition, AppSpec and image, and no promote stages", () => {
    const [pipeline] = pipelinesOf(synthJson(cicdStack({}, withApi({ codeDeploy })).stack));
    expect(stageNames(pipeline)).toEqual(["Source", "Build", "Deploy"]);
    expect(stageOf(pipeline, "Deploy").action).toEqual([
      {
        name: "Deploy",
        category: "Deploy",
        owner: "AWS",
        provider: "CodeDeployToECS",
        version: "1",
        input_artifacts: ["release"],
        configuration: {
          ApplicationName: "fargate-develop-api",
          DeploymentGroupName: "fargate-develop-api",
          TaskDefinitionTemplateArtifact: "release",
          TaskDefinitionTemplatePath: "taskdef.json",
          AppSpecTemplateArtifact: "release",
          AppSpecTemplatePath: "appspec.yaml",
          Image1ArtifactName: "release",
          // The <IMAGE1_NAME> placeholder the build writes into taskdef.json.
          Image1ContainerName: "IMAGE1_NAME",
        },
      },
    ]);
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

  test("builds in a privileged LINUX_CONTAINER with KMS-encrypted output, logging to its own streams of the environment's group", () => {
    expect(synthText(cicdStack().stack)).toHaveResourceWithProperties({ tfResourceType: "aws_codebuild_project" }, {
      name: "fargate-develop-api-build",
      encryption_key: DATA_KEY,
      source: expect.objectContaining({ type: "CODEPIPELINE", buildspec: buildSpec() }),
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

  test("rolling: the build starts every release from Terraform's config revision and deploys it to its own service", () => {
    const env = envOf(synthJson(cicdStack().stack));
    expect(env).toMatchObject({
      CONFIG_TASK_DEFINITION: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-develop-api:3`,
      CONTAINER_PORT: "8000",
      CLUSTER: "fargate-develop-cluster",
      SERVICE: "fargate-develop-api",
      DEPLOY_WITH: "ecs",
    });
    expect(env.APPSPEC_NETWORK).toBeUndefined();
    expect(env.CAPACITY_PROVIDER_STRATEGY).toBeUndefined();
  });

  test("blue/green: the build carries the AppSpec's network and capacity settings, which CodeDeploy owns on the service", () => {
    const env = envOf(synthJson(cicdStack({}, withApi({ codeDeploy })).stack));
    expect(env.DEPLOY_WITH).toBe("codedeploy");
    expect(JSON.parse(env.CAPACITY_PROVIDER_STRATEGY)).toEqual([
      { CapacityProvider: "FARGATE", Base: 1, Weight: 70 },
      { CapacityProvider: "FARGATE_SPOT", Base: 0, Weight: 30 },
    ]);
    // Subnet and group IDs are usually tokens: Terraform encodes the JSON at apply.
    expect(env.APPSPEC_NETWORK).toMatch(/^\$\{jsonencode\(\{.*\}\)\}$/);
    for (const value of ['"subnet-a"', '"subnet-b"', '"sg-ecs"', '"DISABLED"']) expect(env.APPSPEC_NETWORK).toContain(value);
  });

  test("the buildspec has no ${ or %{, which Terraform would read as template syntax", () => {
    const spec = buildSpec();
    expect(spec).toContain("$REPOSITORY_URI");
    expect(spec).not.toMatch(/\$\{/);
    expect(spec).not.toMatch(/%\{/);
  });

  test("the buildspec builds a release by digest from the config revision and hands on all four release files", () => {
    const spec = JSON.parse(buildSpec());
    expect(spec.env).toEqual({ shell: "bash" });
    expect(spec.artifacts.files).toEqual(["imagedefinitions.json", "imageDetail.json", "taskdef.json", "appspec.yaml"]);
    const { build } = buildSpecModes();
    expect(build).toMatch(/^set -e; /);
    expect(build).toContain("aws ecr get-login-password");
    expect(build).toContain('IMAGE_TAG="$COMMIT_ID"');
    expect(build).toContain('docker push "$REPOSITORY_URI:$IMAGE_TAG"');
    expect(build).toContain('--query "imageDetails[0].imageDigest"');
    expect(build).toContain('IMAGE_URI="$REPOSITORY_URI@$DIGEST"');
    expect(build).toContain('aws ecs describe-task-definition --task-definition "$CONFIG_TASK_DEFINITION"');
    for (const file of spec.artifacts.files) expect(build).toContain(`> ${file}`);
  });

  test("deploy mode registers taskdef.json, updates the service, waits, and fails when the service does not run the registered revision", () => {
    const { deploy } = buildSpecModes();
    expect(deploy).toMatch(/^set -e; /);
    expect(deploy).toContain('ARN="$(aws ecs register-task-definition --cli-input-json file://taskdef.json --query taskDefinition.taskDefinitionArn --output text)"');
    expect(deploy).toContain('aws ecs update-service --cluster "$CLUSTER" --service "$SERVICE" --task-definition "$ARN"');
    expect(deploy).toContain('for ROUND in $(seq 1 "$WAIT_ROUNDS"); do if aws ecs wait services-stable --cluster "$CLUSTER" --services "$SERVICE"; then break; fi; done');
    expect(deploy).toContain('RUNNING="$(aws ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" --query "services[0].taskDefinition" --output text)"');
    expect(deploy).toContain('if [ "$RUNNING" != "$ARN" ]; then echo "ECS rolled the deployment back; the service runs $RUNNING" >&2; exit 1; fi');
    // The order matters: the check reads the service only after it is stable again.
    const order = ["register-task-definition", "update-service", "wait services-stable", "describe-services", '"$RUNNING" != "$ARN"'].map((s) => deploy.indexOf(s));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  describe("the buildspec, run against a stand-in AWS CLI", () => {
    const REGISTERED = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-develop-api:8`;
    const PREVIOUS = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-develop-api:7`;
    const REPOSITORY_URI = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate-develop/api`;
    const DIGEST = "sha256:0123456789abcdef";
    /** The config revision as `describe-task-definition --query taskDefinition` prints it. */
    const CONFIG = {
      taskDefinitionArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-develop-api:3`,
      family: "fargate-develop-api",
      revision: 3,
      status: "ACTIVE",
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/fargate-develop-api-task`,
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/fargate-develop-api-execution`,
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
        { name: "api", image: `${REPOSITORY_URI}:config-tag`, essential: true, environment: [{ name: "LOG_LEVEL", value: "info" }] },
        { name: "xray-daemon", image: "public.ecr.aws/xray/aws-xray-daemon:3.3.11", essential: false },
      ],
    };
    const STUB_AWS = [
      "#!/usr/bin/env bash",
      'echo "aws $*" >> "$STUB_LOG"',
      'case "$1 $2" in',
      '  "ecr get-login-password") echo token ;;',
      '  "ecr describe-images") if [[ "$*" == *--query* ]]; then echo "$STUB_DIGEST"; elif [ -n "$STUB_IMAGE_MISSING" ]; then exit 254; fi ;;',
      '  "ecs describe-task-definition") cat "$STUB_CONFIG" ;;',
      '  "ecs register-task-definition") echo "$STUB_REGISTERED" ;;',
      '  "ecs update-service"|"ecs wait") ;;',
      '  "ecs describe-services") echo "$STUB_RUNNING" ;;',
      '  *) echo "unexpected: aws $*" >&2; exit 2 ;;',
      "esac",
    ].join("\n");
    const STUB_DOCKER = ["#!/usr/bin/env bash", 'echo "docker $*" >> "$STUB_LOG"', "cat > /dev/null"].join("\n");
    const hasJq = spawnSync("jq", ["--version"]).status === 0;
    // The build mode shapes taskdef.json and appspec.yaml with jq (as CodeBuild's standard images have it).
    const withJq = hasJq ? test : test.skip;
    if (!hasJq) console.warn("cicd.test.ts: jq is not installed; the build-mode buildspec runs are SKIPPED");
    let dirs: string[] = [];
    afterEach(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      dirs = [];
    });

    /** Runs one mode of the buildspec in a fresh directory; `files` are the input artifact's files. */
    function run(env: Record<string, string>, files: Record<string, string> = {}) {
      const dir = mkdtempSync(join(tmpdir(), "buildspec-"));
      dirs.push(dir);
      const bin = join(dir, ".bin");
      mkdirSync(bin);
      for (const [name, text] of [["aws", STUB_AWS], ["docker", STUB_DOCKER]]) {
        writeFileSync(join(bin, name), text);
        chmodSync(join(bin, name), 0o755);
      }
      writeFileSync(join(dir, ".config.json"), JSON.stringify(CONFIG));
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const [command] = JSON.parse(buildSpec()).phases.build.commands;
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
          REPOSITORY_URI,
          CONTAINER_NAME: "api",
          DOCKERFILE: "Dockerfile",
          CONTAINER_PORT: "8000",
          CONFIG_TASK_DEFINITION: CONFIG.taskDefinitionArn,
          CLUSTER: "fargate-develop-cluster",
          SERVICE: "fargate-develop-api",
          WAIT_ROUNDS: "3",
          ...env,
        },
      });
      const calls = existsSync(join(dir, ".calls")) ? readFileSync(join(dir, ".calls"), "utf8").trim().split("\n") : [];
      const read = (file: string) => readFileSync(join(dir, file), "utf8");
      return { status: result.status, stderr: result.stderr, calls, read };
    }

    test("deploy mode succeeds when the service runs the registered revision once stable", () => {
      const { status, calls } = run({ MODE: "deploy", STUB_RUNNING: REGISTERED }, { "taskdef.json": "{}" });
      expect(status).toBe(0);
      expect(calls).toEqual([
        "aws ecs register-task-definition --cli-input-json file://taskdef.json --query taskDefinition.taskDefinitionArn --output text",
        `aws ecs update-service --cluster fargate-develop-cluster --service fargate-develop-api --task-definition ${REGISTERED}`,
        "aws ecs wait services-stable --cluster fargate-develop-cluster --services fargate-develop-api",
        "aws ecs describe-services --cluster fargate-develop-cluster --services fargate-develop-api --query services[0].taskDefinition --output text",
      ]);
    });

    test("deploy mode fails when ECS rolled the release back (the service runs another revision)", () => {
      const { status, stderr } = run({ MODE: "deploy", STUB_RUNNING: PREVIOUS }, { "taskdef.json": "{}" });
      expect(status).toBe(1);
      expect(stderr).toContain(`ECS rolled the deployment back; the service runs ${PREVIOUS}`);
    });

    withJq("build mode (rolling) writes the release by digest: the config revision with only the image replaced", () => {
      const { status, stderr, calls, read } = run({ COMMIT_ID: "abc123", DEPLOY_WITH: "ecs" });
      expect([status, stderr]).toEqual([0, expect.anything()]);
      const image = `${REPOSITORY_URI}@${DIGEST}`;
      expect(JSON.parse(read("imagedefinitions.json"))).toEqual([{ name: "api", imageUri: image }]);
      expect(JSON.parse(read("imageDetail.json"))).toEqual({ ImageURI: image });
      const { taskDefinitionArn, revision, status: _status, compatibilities, requiresAttributes, registeredAt, ...registrable } = CONFIG;
      expect(JSON.parse(read("taskdef.json"))).toEqual({
        ...registrable,
        containerDefinitions: [{ ...CONFIG.containerDefinitions[0], image }, CONFIG.containerDefinitions[1]],
      });
      expect(read("appspec.yaml")).toBe("");
      // The commit's image was already in ECR: released unchanged, not rebuilt.
      expect(calls.filter((c) => c.startsWith("docker build") || c.startsWith("docker push"))).toEqual([]);
    });

    withJq("build mode builds and pushes a commit whose image is not in ECR yet", () => {
      const { status, calls } = run({ COMMIT_ID: "abc123", DEPLOY_WITH: "ecs", STUB_IMAGE_MISSING: "1" });
      expect(status).toBe(0);
      expect(calls.filter((c) => c.startsWith("docker build") || c.startsWith("docker push"))).toEqual([
        `docker build --file Dockerfile --tag ${REPOSITORY_URI}:abc123 .`,
        `docker push ${REPOSITORY_URI}:abc123`,
      ]);
    });

    withJq("build mode (CodeDeploy) leaves the image to the action and writes the AppSpec with the config's network and capacity", () => {
      const network = { AwsvpcConfiguration: { Subnets: ["subnet-a"], SecurityGroups: ["sg-ecs"], AssignPublicIp: "DISABLED" } };
      const strategy = [{ CapacityProvider: "FARGATE", Base: 1, Weight: 100 }];
      const { status, read } = run({ COMMIT_ID: "abc123", DEPLOY_WITH: "codedeploy", APPSPEC_NETWORK: JSON.stringify(network), CAPACITY_PROVIDER_STRATEGY: JSON.stringify(strategy) });
      expect(status).toBe(0);
      expect(JSON.parse(read("taskdef.json")).containerDefinitions.map((c: any) => c.image)).toEqual(["<IMAGE1_NAME>", CONFIG.containerDefinitions[1].image]);
      expect(JSON.parse(read("imageDetail.json"))).toEqual({ ImageURI: `${REPOSITORY_URI}@${DIGEST}` });
      const appspec = JSON.parse(read("appspec.yaml"));
      expect(appspec.Resources).toEqual([
        {
          TargetService: {
            Type: "AWS::ECS::Service",
            Properties: {
              TaskDefinition: "<TASK_DEFINITION>",
              LoadBalancerInfo: { ContainerName: "api", ContainerPort: 8000 },
              NetworkConfiguration: network,
              CapacityProviderStrategy: strategy,
            },
          },
        },
      ]);
    });

    test("build mode fails without a commit to tag the image with", () => {
      const { status, stderr } = run({ COMMIT_ID: "", CODEBUILD_RESOLVED_SOURCE_VERSION: "", DEPLOY_WITH: "ecs" });
      expect(status).toBe(1);
      expect(stderr).toContain("no commit SHA to tag the image with");
    });
  });

  test("roles trust their service with aws:SourceAccount", () => {
    const json = synthJson(cicdStack().stack);
    const trusts = Object.values<any>(json.data.aws_iam_policy_document)
      .flatMap((d) => d.statement)
      .filter((s) => s.actions?.includes("sts:AssumeRole"));
    expect(trusts.map((s: any) => s.principals[0].identifiers[0]).sort()).toEqual(["codebuild.amazonaws.com", "codepipeline.amazonaws.com"]);
    for (const t of trusts) expect(t.condition).toEqual([{ test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] }]);
  });

  test('rolling: IAM is least privilege, Resource "*" only for the actions AWS authorizes on nothing else', () => {
    const json = synthJson(cicdStack().stack);
    const all = grants(json);
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((s) => s.effect === "Allow")).toBe(true);
    const wildcard = all.filter((s) => s.resources.includes("*"));
    expect(wildcard.flatMap((s) => s.actions).sort()).toEqual(["ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]);
    for (const s of all) expect(s.actions.some((a: string) => a === "*" || a.endsWith(":*"))).toBe(false);

    const bySid = (sid: string) => all.filter((s) => s.sid === sid);
    expect(bySid("PushToOwnRepository")[0].resources).toEqual([`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/fargate-develop/api`]);
    expect(bySid("PushToOwnRepository")[0].actions).toEqual(expect.arrayContaining(["ecr:PutImage", "ecr:DescribeImages"]));
    expect(bySid("WriteBuildLogs")[0].resources).toEqual([expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.cicd_build-log-group_\w+\.arn\}:log-stream:api\/\*$/)]);
    for (const s of bySid("UseDataKey")) expect(s.resources).toEqual([DATA_KEY]);
    expect(bySid("RunBuild")[0].resources).toEqual([expect.stringMatching(/^\$\{aws_codebuild_project\.pipeline-api_build-project_\w+\.arn\}$/)]);
    // The Deploy stage runs the build project: its role registers the release and updates its own service only.
    expect(bySid("DeployOwnService")).toEqual([
      expect.objectContaining({ role: "fargate-develop-api-codebuild", actions: ["ecs:UpdateService", "ecs:DescribeServices"], resources: [`arn:aws:ecs:us-east-1:${ACCOUNT}:service/fargate-develop-cluster/fargate-develop-api`] }),
    ]);
    expect(bySid("RegisterReleaseRevision").map((s) => s.role)).toEqual(["fargate-develop-api-codebuild"]);
    expect(bySid("PassOwnTaskRoles")).toEqual([
      expect.objectContaining({
        role: "fargate-develop-api-codebuild",
        actions: ["iam:PassRole"],
        resources: [`arn:aws:iam::${ACCOUNT}:role/fargate-develop-api-execution`, `arn:aws:iam::${ACCOUNT}:role/fargate-develop-api-task`],
        condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
      }),
    ]);
    // No CodeDeploy rights without CodeDeploy.
    expect(all.flatMap((s) => s.actions).filter((a: string) => a.startsWith("codedeploy:"))).toEqual([]);
  });

  test("blue/green: the pipeline role deploys through its own CodeDeploy group; the build role only builds", () => {
    const json = synthJson(cicdStack({}, withApi({ codeDeploy })).stack);
    const pipeline = policyOfRole(json, "fargate-develop-api-codepipeline").statements;
    const build = policyOfRole(json, "fargate-develop-api-codebuild").statements;
    const bySid = (statements: any[], sid: string) => statements.find((s) => s.sid === sid);
    expect(bySid(pipeline, "DeployThroughCodeDeploy")).toMatchObject({
      actions: expect.arrayContaining(["codedeploy:CreateDeployment", "codedeploy:GetDeployment", "codedeploy:RegisterApplicationRevision"]),
      resources: [
        `arn:aws:codedeploy:us-east-1:${ACCOUNT}:application:fargate-develop-api`,
        `arn:aws:codedeploy:us-east-1:${ACCOUNT}:deploymentgroup:fargate-develop-api/fargate-develop-api`,
        `arn:aws:codedeploy:us-east-1:${ACCOUNT}:deploymentconfig:*`,
      ],
    });
    // The CodeDeployToECS action registers the release's task definition itself.
    expect(bySid(pipeline, "RegisterReleaseRevision")).toMatchObject({ actions: ["ecs:RegisterTaskDefinition"], resources: ["*"] });
    expect(bySid(pipeline, "TagNewRevisions")).toMatchObject({
      actions: ["ecs:TagResource"],
      resources: [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-develop-api:*`],
      condition: [{ test: "StringEquals", variable: "ecs:CreateAction", values: ["RegisterTaskDefinition"] }],
    });
    expect(bySid(pipeline, "PassOwnTaskRoles")).toMatchObject({ resources: [`arn:aws:iam::${ACCOUNT}:role/fargate-develop-api-execution`, `arn:aws:iam::${ACCOUNT}:role/fargate-develop-api-task`] });
    // The build reads the config revision, and deploys nothing.
    expect(bySid(build, "ReadConfigRevision")).toMatchObject({ actions: ["ecs:DescribeTaskDefinition"], resources: ["*"] });
    expect(build.map((s) => s.sid)).not.toEqual(expect.arrayContaining(["RegisterReleaseRevision"]));
    expect(build.flatMap((s) => s.actions).filter((a: string) => ["ecs:UpdateService", "ecs:RegisterTaskDefinition", "iam:PassRole"].includes(a))).toEqual([]);
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

  test("keeps each role's rights in its one inline policy, with no managed policy", () => {
    for (const overrides of [{}, { codeDeploy }]) {
      const json = synthJson(cicdStack({}, withApi(overrides)).stack);
      expect(inlinePolicies(json).map((p) => [p.role, p.name]).sort()).toEqual([
        ["fargate-develop-api-codebuild", "build-and-push"],
        ["fargate-develop-api-codepipeline", "deliver"],
      ]);
      expect(resourcesOf(json, "aws_iam_policy")).toEqual([]);
      expect(resourcesOf(json, "aws_iam_role_policy_attachment")).toEqual([]);
    }
  });

  test.each<[string, Partial<ServicePipelineProps>]>([
    ["rolling", {}],
    ["blue/green", { codeDeploy }],
  ])("%s: the task-definition wildcards pass the policy pack through its allowlist, not a suppression", (_what, overrides) => {
    const { stack } = cicdStack({}, withApi(overrides));
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

  test("reports no problem for valid props", () => {
    expect(problemsOf(cicdStack({}, [{ name: "api", overrides: { codeDeploy } }, { name: "web" }]).stack)).toEqual([]);
  });

  test.each<[string, Partial<ServicePipelineProps>, RegExp]>([
    ["repository is not workspace/repo", { repository: "https://bitbucket.org/myorg/api" }, /^repository must be "workspace\/repo"; got "https:\/\/bitbucket.org\/myorg\/api"/],
    ["repository has no workspace", { repository: "api" }, /^repository must be "workspace\/repo"; got "api"/],
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
