// Brings cdktf's jest matcher types (toHaveResourceWithProperties, ...) into the type check.
import type {} from "cdktf/lib/testing/adapters/jest";
import { TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { buildSpec, Cicd, CicdProps, CicdServiceSpec } from "../../modules/cicd";
import { Naming } from "../../lib/naming";
import { evaluateStack } from "../../src/policy/aspect";
import { resourcesOf } from "../helpers";

const ACCOUNT = "123456789012";
const api: CicdServiceSpec = {
  name: "api",
  repository: "myorg/api",
  ecrRepositoryArn: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/fargate-develop/api`,
  ecrRepositoryUrl: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate-develop/api`,
  clusterName: "fargate-develop-cluster",
  serviceName: "fargate-develop-api",
  containerName: "api",
  taskRoleArns: [`arn:aws:iam::${ACCOUNT}:role/fargate-develop-api-execution`, `arn:aws:iam::${ACCOUNT}:role/fargate-develop-api-task`],
  logRetentionDays: 7,
};

const baseProps: CicdProps = {
  naming: new Naming("fargate", "develop"),
  accountId: ACCOUNT,
  region: "us-east-1",
  dataKmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/data`,
  logsKmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/logs`,
  manualApproval: false,
  branchPattern: "feature/*",
  services: [api],
};

function synth(overrides: Partial<CicdProps> = {}): string {
  return Testing.synthScope((scope: Construct) => {
    new Cicd(scope, "cicd", { ...baseProps, ...overrides });
  });
}

const json = (text: string) => JSON.parse(text);
const pipelines = (text: string) => resourcesOf(json(text), "aws_codepipeline").map(([, p]) => p);
const stageNames = (pipeline: any) => pipeline.stage.map((s: any) => s.name);

/** Every policy document statement, with the document's Terraform name. */
function statements(text: string): { doc: string; sid?: string; actions: string[]; resources: string[]; condition?: any[] }[] {
  return Object.entries<any>(json(text).data.aws_iam_policy_document).flatMap(([doc, d]) => d.statement.map((s: any) => ({ doc, ...s })));
}

describe("Cicd", () => {
  test("creates a Bitbucket connection when no connectionArn is given", () => {
    const text = synth();
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_codestarconnections_connection" }, { name: "fargate-develop-bitbucket", provider_type: "Bitbucket" });
    expect(pipelines(text)[0].stage[0].action[0].configuration.ConnectionArn).toContain("aws_codestarconnections_connection");
  });

  test("uses the given connection and creates none", () => {
    const arn = `arn:aws:codeconnections:us-east-1:${ACCOUNT}:connection/abc-123`;
    const text = synth({ connectionArn: arn });
    expect(resourcesOf(json(text), "aws_codestarconnections_connection")).toEqual([]);
    expect(pipelines(text)[0].stage[0].action[0].configuration).toMatchObject({ ConnectionArn: arn, FullRepositoryId: "myorg/api", BranchName: "main" });
    const use = statements(text).find((s) => s.sid === "UseSourceConnection")!;
    expect(use.resources).toEqual([arn]);
  });

  test("creates a V2 pipeline triggered only by pushes matching the branch pattern", () => {
    const text = synth({ branchPattern: "release/*.*.*" });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_codepipeline" }, {
      name: "fargate-develop-api",
      pipeline_type: "V2",
      trigger: [
        expect.objectContaining({
          provider_type: "CodeStarSourceConnection",
          git_configuration: expect.objectContaining({ source_action_name: "Source", push: [expect.objectContaining({ branches: { includes: ["release/*.*.*"] } })] }),
        }),
      ],
    });
  });

  test("runs Source -> Build -> Deploy without approval, and rolls the Deploy stage back on failure", () => {
    const [pipeline] = pipelines(synth());
    expect(stageNames(pipeline)).toEqual(["Source", "Build", "Deploy"]);
    const deploy = pipeline.stage[2];
    expect(deploy.on_failure).toEqual({ result: "ROLLBACK" });
    expect(deploy.action[0]).toMatchObject({
      category: "Deploy",
      provider: "ECS",
      input_artifacts: ["imagedefinitions"],
      configuration: { ClusterName: "fargate-develop-cluster", ServiceName: "fargate-develop-api", FileName: "imagedefinitions.json" },
    });
    expect(JSON.parse(pipeline.stage[1].action[0].configuration.EnvironmentVariables)).toEqual([{ name: "COMMIT_ID", value: "#{SourceVariables.CommitId}", type: "PLAINTEXT" }]);
  });

  test("inserts a manual approval stage before Deploy iff manualApproval, notifying the topic", () => {
    const topic = `arn:aws:sns:us-east-1:${ACCOUNT}:fargate-prod-alarms`;
    const text = synth({ naming: new Naming("fargate", "prod"), manualApproval: true, branchPattern: "prod/*", approvalTopicArn: topic });
    const [pipeline] = pipelines(text);
    expect(stageNames(pipeline)).toEqual(["Source", "Build", "Approval", "Deploy"]);
    expect(pipeline.stage[2].action[0]).toMatchObject({ category: "Approval", provider: "Manual", name: "ManualApproval", configuration: { NotificationArn: topic } });
    expect(statements(text).find((s) => s.sid === "NotifyApprovers")!.resources).toEqual([topic]);
    // Without manual approval there is no approval stage and no publish right.
    const plain = synth();
    expect(pipelines(plain).flatMap((p) => stageNames(p))).not.toContain("Approval");
    expect(statements(plain).find((s) => s.sid === "NotifyApprovers")).toBeUndefined();
  });

  test("blue/green: deploys to the candidate slot, then promotes the same image to live after approval", () => {
    const text = synth({ services: [{ ...api, serviceName: "fargate-develop-api-green", promoteTo: { serviceName: "fargate-develop-api-blue" } }] });
    const [[, pipeline]] = resourcesOf(JSON.parse(text), "aws_codepipeline");
    expect(pipeline.stage.map((st: any) => st.name)).toEqual(["Source", "Build", "Deploy", "Promote", "DeployLive"]);
    const [, , deploy, promote, live] = pipeline.stage;
    expect(deploy.action[0].configuration.ServiceName).toBe("fargate-develop-api-green");
    expect(promote.action[0]).toMatchObject({ category: "Approval", provider: "Manual" });
    expect(live.action[0].configuration.ServiceName).toBe("fargate-develop-api-blue");
    expect(live.action[0].input_artifacts).toEqual(["imagedefinitions"]);
    // the pipeline role may update exactly these two services and tag their families' revisions
    const statements = Object.values<any>(JSON.parse(text).data.aws_iam_policy_document).flatMap((d) => d.statement);
    const update = statements.find((st) => st.sid === "UpdateOwnService");
    expect(update.resources).toEqual([
      `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${api.clusterName}/fargate-develop-api-green`,
      `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${api.clusterName}/fargate-develop-api-blue`,
    ]);
    const tag = statements.find((st) => st.sid === "TagNewRevisions");
    expect(tag.resources).toHaveLength(2);
  });

  test("stores artifacts in a per-service SecureBucket encrypted with the data key", () => {
    const text = synth();
    expect(pipelines(text)[0].artifact_store).toEqual([
      expect.objectContaining({ type: "S3", encryption_key: { type: "KMS", id: baseProps.dataKmsKeyArn } }),
    ]);
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket" }, { bucket: `fargate-develop-api-pipeline-${ACCOUNT}` });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_server_side_encryption_configuration" }, {
      rule: [expect.objectContaining({ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: baseProps.dataKmsKeyArn } })],
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_public_access_block" }, { block_public_acls: true, restrict_public_buckets: true });
  });

  test("builds in a privileged LINUX_CONTAINER with KMS-encrypted output and logs", () => {
    const text = synth();
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_codebuild_project" }, {
      name: "fargate-develop-api-build",
      encryption_key: baseProps.dataKmsKeyArn,
      source: expect.objectContaining({ type: "CODEPIPELINE" }),
      artifacts: expect.objectContaining({ type: "CODEPIPELINE" }),
      environment: expect.objectContaining({
        type: "LINUX_CONTAINER",
        image: "aws/codebuild/standard:7.0",
        privileged_mode: true,
        environment_variable: expect.arrayContaining([{ name: "REPOSITORY_URI", value: api.ecrRepositoryUrl, type: "PLAINTEXT" }, { name: "CONTAINER_NAME", value: "api", type: "PLAINTEXT" }]),
      }),
      logs_config: expect.objectContaining({ cloudwatch_logs: expect.objectContaining({ status: "ENABLED" }) }),
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_log_group" }, {
      name: "/fargate/develop/codebuild/api",
      retention_in_days: 7,
      kms_key_id: baseProps.logsKmsKeyArn,
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
    const trusts = statements(synth()).filter((s) => s.actions.includes("sts:AssumeRole"));
    expect(trusts.map((s: any) => s.principals[0].identifiers[0]).sort()).toEqual(["codebuild.amazonaws.com", "codepipeline.amazonaws.com"]);
    for (const t of trusts) expect(t.condition).toEqual([{ test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] }]);
  });

  test("IAM is least privilege: Resource \"*\" only for the actions AWS authorizes on nothing else", () => {
    // The artifact buckets' TLS-only Deny is the one statement with s3:*; grants are Allow.
    const all = statements(synth()).filter((s: any) => s.effect === "Allow" && !s.actions.includes("sts:AssumeRole"));
    const wildcard = all.filter((s) => s.resources.includes("*"));
    expect(wildcard.flatMap((s) => s.actions).sort()).toEqual(["ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]);
    for (const s of all) expect(s.actions.some((a) => a === "*" || a.endsWith(":*"))).toBe(false);

    const bySid = (sid: string) => all.filter((s) => s.sid === sid);
    expect(bySid("PushToOwnRepository")[0].resources).toEqual([api.ecrRepositoryArn]);
    expect(bySid("PushToOwnRepository")[0].actions).toContain("ecr:PutImage");
    expect(bySid("WriteBuildLogs")[0].resources.every((r) => r.includes("aws_cloudwatch_log_group"))).toBe(true);
    for (const s of bySid("ReadWriteArtifacts")) expect(s.resources.every((r) => r.includes("aws_s3_bucket.cicd_api_artifacts_bucket"))).toBe(true);
    for (const s of bySid("UseDataKey")) expect(s.resources).toEqual([baseProps.dataKmsKeyArn]);
    expect(bySid("UpdateOwnService")[0].resources).toEqual(["arn:aws:ecs:us-east-1:123456789012:service/fargate-develop-cluster/fargate-develop-api"]);
    expect(bySid("RunBuild")[0].resources[0]).toContain("aws_codebuild_project");
    expect(bySid("TagNewRevisions")[0]).toMatchObject({
      resources: ["arn:aws:ecs:us-east-1:123456789012:task-definition/fargate-develop-api:*"],
      condition: [{ test: "StringEquals", variable: "ecs:CreateAction", values: ["RegisterTaskDefinition"] }],
    });
    expect(bySid("PassOwnTaskRoles")[0]).toMatchObject({
      actions: ["iam:PassRole"],
      resources: api.taskRoleArns,
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
    });
  });

  test("the task-definition wildcard passes the policy pack through its allowlist, not a suppression", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    new Cicd(stack, "cicd", baseProps);
    const wildcard = evaluateStack(stack).filter((f) => f.ruleId === "IAM-NO-WILDCARD");
    expect(wildcard.filter((f) => f.status === "non-compliant")).toEqual([]);
    expect(wildcard.filter((f) => f.status === "suppressed")).toEqual([]);
  });

  test("creates one pipeline, project, bucket and pair of roles per service", () => {
    const web: CicdServiceSpec = { ...api, name: "web", repository: "myorg/web", serviceName: "fargate-develop-web", ecrRepositoryUrl: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate-develop/web` };
    const out = json(synth({ services: [api, web] }));
    expect(resourcesOf(out, "aws_codepipeline").map(([, p]) => p.name).sort()).toEqual(["fargate-develop-api", "fargate-develop-web"]);
    expect(resourcesOf(out, "aws_codebuild_project")).toHaveLength(2);
    expect(resourcesOf(out, "aws_iam_role").map(([, r]) => r.name).sort()).toEqual([
      "fargate-develop-api-codebuild",
      "fargate-develop-api-codepipeline",
      "fargate-develop-web-codebuild",
      "fargate-develop-web-codepipeline",
    ]);
    expect(resourcesOf(out, "aws_codestarconnections_connection")).toHaveLength(1);
  });

  test.each<[string, Partial<CicdProps>, RegExp]>([
    ["branchPattern is empty", { branchPattern: "" }, /branchPattern must name the branches/],
    ["branchPattern is blank", { branchPattern: "  " }, /branchPattern must name the branches/],
    ["repository is not workspace/repo", { services: [{ ...api, repository: "https://bitbucket.org/myorg/api" }] }, /services\[0\]\.repository must be "workspace\/repo"/],
    ["repository has no workspace", { services: [{ ...api, repository: "api" }] }, /repository must be "workspace\/repo"; got "api"/],
    ["service names repeat", { services: [api, { ...api }] }, /services\[1\]\.name duplicates another service; got "api"/],
    ["a service name is not kebab-case", { services: [{ ...api, name: "My_Api" }] }, /services\[0\]\.name must be lowercase kebab-case/],
    ["connectionArn is not a connection ARN", { connectionArn: "arn:aws:s3:::bucket" }, /connectionArn must be a CodeConnections connection ARN/],
    ["an approval topic is given without manual approval", { approvalTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:t` }, /approvalTopicArn only applies to approval stages \(manualApproval or a blue\/green promote\); got a topic with neither/],
    ["promoteTo names the candidate service itself", { services: [{ ...api, promoteTo: { serviceName: api.serviceName } }] }, /promoteTo\.serviceName must differ from serviceName/],
    ["taskRoleArns is empty", { services: [{ ...api, taskRoleArns: [] }] }, /taskRoleArns must list/],
    ["a task role is not a role ARN", { services: [{ ...api, taskRoleArns: ["*"] }] }, /taskRoleArns must be IAM role ARNs; got "\*"/],
    ["the ECR URL carries a tag", { services: [{ ...api, ecrRepositoryUrl: `${api.ecrRepositoryUrl}:latest` }] }, /ecrRepositoryUrl must be an ECR repository URL without tag/],
    ["serviceName is empty", { services: [{ ...api, serviceName: "" }] }, /services\[0\]\.serviceName is required/],
    ["containerName is empty", { services: [{ ...api, containerName: "" }] }, /containerName must name the container/],
    ["logRetentionDays is not positive", { services: [{ ...api, logRetentionDays: 0 }] }, /logRetentionDays must be a positive number of days; got 0/],
    ["deployTimeoutMinutes is out of range", { deployTimeoutMinutes: 0 }, /deployTimeoutMinutes must be a whole number of minutes from 1 to 60; got 0/],
  ])("throws when %s", (_what, overrides, message) => {
    expect(() => synth(overrides)).toThrow(message);
    expect(() => synth(overrides)).toThrow(/^cicd: |\/cicd: /);
  });

  test("throws when a name breaks an AWS limit", () => {
    expect(() => synth({ naming: new Naming("averylongproj", "develop"), services: [{ ...api, name: "a-very-long-service-x" }] })).toThrow(/s3Bucket name .* the AWS limit is 63/);
  });
});
