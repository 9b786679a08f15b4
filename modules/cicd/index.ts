import { Construct } from "constructs";
import { Fn, Token } from "cdktf";
import { CodestarconnectionsConnection } from "@cdktf/provider-aws/lib/codestarconnections-connection";
import { CodebuildProject } from "@cdktf/provider-aws/lib/codebuild-project";
import { Codepipeline, CodepipelineStage } from "@cdktf/provider-aws/lib/codepipeline";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Naming } from "../../lib/naming";
import { ConstructPropsError } from "../../lib/errors";
import { logRetentionProblem } from "../../lib/aws-limits";
import { skipCheckov, skipShortRetention } from "../../lib/checkov";
import { policyDocument, serviceTrustPolicy } from "../../lib/iam-policy";
import { SecureBucket } from "../../lib/secure-bucket";

/** One service the platform delivers: its source repository and the ECS service it lands in. */
export interface ServicePipelineProps {
  /** Names for this environment. */
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /**
   * AWS partition of the ARNs.
   * @default "aws"
   */
  readonly partition?: string;
  /** The environment's delivery plumbing: connection, artifact bucket, keys, trigger and approval settings. */
  readonly cicd: Cicd;
  /** Service name (kebab-case, unique); part of every physical name. */
  readonly name: string;
  /** Bitbucket repository as `workspace/repo`. */
  readonly repository: string;
  /** ARN of the ECR repository the build pushes to (push rights are scoped to it). */
  readonly ecrRepositoryArn: string;
  /** URL of that repository (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`). */
  readonly ecrRepositoryUrl: string;
  /** ECS cluster of the service the deploy action updates. */
  readonly clusterName: string;
  /** ECS service the deploy action updates (for blue/green: the colour that takes new images). */
  readonly serviceName: string;
  /** Container in the task definition whose image the deploy replaces (`imagedefinitions.json`). */
  readonly containerName: string;
  /**
   * Task definition family the deploy action registers revisions of.
   * @default - the ECS service name (the ecs module names both alike)
   */
  readonly taskDefinitionFamily?: string;
  /** Execution and task role ARNs of the task definition: the only roles the pipeline may pass to ECS. */
  readonly taskRoleArns: readonly string[];
  /**
   * Dockerfile path inside the repository.
   * @default "Dockerfile"
   */
  readonly dockerfile?: string;
  /**
   * The task definition revision Terraform registered: the config every release carries.
   * The build turns it into the release's task definition with only the image replaced.
   */
  readonly configTaskDefinitionArn: string;
  /** Container port (the AppSpec's load balancer entry). */
  readonly containerPort: number;
  /**
   * Blue/green services: deploy through CodeDeploy (the `CodeDeployToECS` action, with the
   * AppSpec carrying the config's network and capacity settings, which CodeDeploy owns on
   * such a service).
   * @default - rolling: the Deploy stage registers the release and updates the ECS service
   */
  readonly codeDeploy?: {
    readonly applicationName: string;
    readonly deploymentGroupName: string;
    readonly appSpecNetwork: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[]; readonly assignPublicIp: boolean };
    readonly capacityProviderStrategy: readonly { readonly capacityProvider: string; readonly base?: number; readonly weight?: number }[];
  };
}

export interface CicdProps {
  /** Names for this environment. */
  readonly naming: Naming;
  /** Account the pipelines run in (trust conditions and ARNs). */
  readonly accountId: string;
  readonly region: string;
  /**
   * AWS partition of the ARNs.
   * @default "aws"
   */
  readonly partition?: string;
  /** Customer-managed key for artifacts, build output and approval notifications. */
  readonly dataKmsKeyArn: string;
  /** Customer-managed key of the CodeBuild log group. */
  readonly logsKmsKeyArn: string;
  /** Retention of the CodeBuild log group, in days (a CloudWatch-allowed value). */
  readonly logRetentionDays: number;
  /**
   * An existing CodeStar/CodeConnections connection to Bitbucket.
   * @default - one connection is created; it stays PENDING until an operator completes the
   * OAuth handshake in the console (see docs/cicd-observability.md)
   */
  readonly connectionArn?: string;
  /** Insert a manual approval stage between Build and Deploy (prod). */
  readonly manualApproval: boolean;
  /** Branches whose pushes start the pipeline, e.g. `feature/*`, `release/*.*.*`, `prod/*`. */
  readonly branchPattern: string;
  /**
   * `push`: pushes to `branchPattern` start the pipelines; `manual`: only an operator does.
   * @default "push"
   */
  readonly trigger?: "push" | "manual";
  /** The branch a manual "Release change" builds (one `branchPattern` matches). */
  readonly releaseBranch: string;
  /**
   * SNS topic notified when a release waits for approval (only with manualApproval).
   * @default - no notification; approvers watch the console
   */
  readonly approvalTopicArn?: string;
  /**
   * Minutes the ECS deploy action waits for the service to reach a steady state.
   * @default 30
   */
  readonly deployTimeoutMinutes?: number;
  /**
   * CodeBuild image.
   * @default "aws/codebuild/standard:7.0"
   */
  readonly buildImage?: string;
  /**
   * CodeBuild compute type.
   * @default "BUILD_GENERAL1_SMALL"
   */
  readonly buildComputeType?: string;
  /**
   * Days pipeline artifacts are kept.
   * @default 30
   */
  readonly artifactRetentionDays?: number;
  /**
   * Bucket that receives the artifact buckets' server access logs.
   * @default - no access logging
   */
  readonly accessLogsBucket?: string;
}


/** Stage names operators type in CLI commands (approval, rollback). */
export const STAGE_NAMES = { source: "Source", build: "Build", approval: "Approval", deploy: "Deploy" } as const;
/** Action names inside those stages. */
export const ACTION_NAMES = { source: "Source", build: "Build", approval: "ManualApproval", deploy: "Deploy" } as const;

/**
 * Delivery per service: Bitbucket (CodeConnections) -> CodeBuild (docker build, push to ECR
 * tagged with the commit SHA) -> [manual approval] -> ECS deploy, in a CodePipeline V2 whose
 * trigger only accepts pushes to `branchPattern`. The Deploy stage rolls back to the last
 * successful execution on failure; the ECS deployment circuit breaker covers the service side.
 */
export class Cicd extends Construct {
  /** Connection ARN every pipeline uses (given or created). */
  public readonly connectionArn: string;
  /** The connection, when this construct created it (PENDING until the OAuth handshake). */
  public readonly connection?: CodestarconnectionsConnection;
  /**
   * The environment's one artifact store. Each pipeline's roles reach only its own prefix
   * (CodePipeline writes under the first 20 characters of the pipeline name).
   */
  public readonly artifactBucket: SecureBucket;
  /** CodeBuild logs of every pipeline, one stream prefix per service. */
  public readonly buildLogGroup: CloudwatchLogGroup;
  /** What every pipeline of this environment shares. */
  public readonly settings: Readonly<Omit<CicdProps, "naming" | "accountId" | "region" | "partition" | "connectionArn" | "artifactRetentionDays" | "accessLogsBucket" | "logRetentionDays">>;
  /** Artifact prefixes claimed by pipelines (they must not overlap). */
  private readonly prefixes = new Map<string, string[]>();

  constructor(scope: Construct, id: string, props: CicdProps) {
    super(scope, id);
    validate(this, props);
    const { naming } = props;
    const { dataKmsKeyArn, logsKmsKeyArn, manualApproval, branchPattern, approvalTopicArn, deployTimeoutMinutes, buildImage, buildComputeType, releaseBranch } = props;
    this.settings = { dataKmsKeyArn, logsKmsKeyArn, manualApproval, branchPattern, approvalTopicArn, deployTimeoutMinutes, buildImage, buildComputeType, releaseBranch, trigger: props.trigger ?? "push" };

    if (props.connectionArn) {
      this.connectionArn = props.connectionArn;
    } else {
      const connectionName = naming.name("generic", "bitbucket");
      if (connectionName.length > 32) {
        throw new ConstructPropsError(this, `connection name "${connectionName}" is ${connectionName.length} characters; CodeConnections allows 32; shorten the project name or pass connectionArn`);
      }
      this.connection = new CodestarconnectionsConnection(this, "connection", { name: connectionName, providerType: "Bitbucket" });
      this.connectionArn = this.connection.arn;
    }

    this.artifactBucket = new SecureBucket(this, "artifacts", {
      bucketName: naming.name("s3Bucket", `pipeline-artifacts-${props.accountId}`),
      kmsKeyArn: props.dataKmsKeyArn,
      expirationDays: props.artifactRetentionDays ?? 30,
      noncurrentVersionDays: 7,
      accessLogsBucket: props.accessLogsBucket,
      // Artifacts are reproducible from the source commit.
      forceDestroy: true,
    });

    this.buildLogGroup = new CloudwatchLogGroup(this, "build-log-group", {
      name: naming.logGroup("codebuild"),
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logsKmsKeyArn,
    });
    skipShortRetention(this.buildLogGroup, props.logRetentionDays, "retention is the environment config value from the deployment guide (7, 30 or 90 days)");

    this.node.addValidation({
      validate: () =>
        [...this.prefixes]
          .filter(([, owners]) => owners.length > 1)
          .map(([prefix, owners]) => `pipelines of ${owners.map((o) => `"${o}"`).join(", ")} would share the artifact prefix "${prefix}/" (CodePipeline uses the first ${ARTIFACT_PREFIX_LENGTH} characters of the name); got ${owners.length} pipelines; rename a service so the names differ earlier`),
    });
  }

  /** The artifact key prefix a pipeline writes under; overlapping prefixes fail synth. */
  public claimArtifactPrefix(pipelineName: string, serviceName: string): string {
    const prefix = pipelineName.slice(0, ARTIFACT_PREFIX_LENGTH);
    this.prefixes.set(prefix, [...(this.prefixes.get(prefix) ?? []), serviceName]);
    return prefix;
  }
}

/** CodePipeline stores artifacts under `<bucket>/<first 20 characters of the pipeline name>/`. */
export const ARTIFACT_PREFIX_LENGTH = 20;

/**
 * One service's delivery: CodeBuild (docker build, push to its ECR repository tagged with the
 * commit SHA) and a CodePipeline V2 (Source -> Build -> [Approval] -> Deploy [-> Promote ->
 * DeployLive]) on the environment's shared connection and artifact bucket.
 */
export class ServicePipeline extends Construct {
  public readonly pipeline: Codepipeline;
  public readonly buildProject: CodebuildProject;
  public readonly buildRole: IamRole;
  public readonly pipelineRole: IamRole;

  constructor(scope: Construct, id: string, props: ServicePipelineProps) {
    super(scope, id);
    validateService(this, props);
    const svc = props;
    const settings = props.cicd.settings;
    const { naming, accountId, region } = props;
    const partition = props.partition ?? "aws";
    const pipelineName = naming.name("generic", svc.name);
    if (pipelineName.length > 100) {
      throw new ConstructPropsError(this, `pipeline name "${pipelineName}" is ${pipelineName.length} characters; CodePipeline allows 100`);
    }
    const projectName = naming.name("generic", `${svc.name}-build`);
    const family = svc.taskDefinitionFamily ?? svc.serviceName;
    const ecsArn = (resource: string) => `arn:${partition}:ecs:${region}:${accountId}:${resource}`;

    const artifactBucket = props.cicd.artifactBucket;
    const bucketArn = artifactBucket.bucket.arn;
    // Only this pipeline's own artifacts: one service's build cannot touch another's.
    const ownArtifacts = `${bucketArn}/${props.cicd.claimArtifactPrefix(pipelineName, svc.name)}/*`;

    // This pipeline's builds write only their own streams (`<service>/<build id>`) of the shared group.
    const buildLogGroupArn = props.cicd.buildLogGroup.arn;

    const passTaskRoles: DataAwsIamPolicyDocumentStatement = {
      sid: "PassOwnTaskRoles",
      effect: "Allow",
      actions: ["iam:PassRole"],
      resources: [...svc.taskRoleArns],
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
    };
    const kmsStatement: DataAwsIamPolicyDocumentStatement = {
      sid: "UseDataKey",
      effect: "Allow",
      actions: ["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      resources: [settings.dataKmsKeyArn],
    };

    // --- CodeBuild: build and push the image, write imagedefinitions.json ---------------
    this.buildRole = new IamRole(this, "build-role", {
      name: naming.name("iamRole", `${svc.name}-codebuild`),
      description: `CodeBuild for ${svc.name}: build and push to its ECR repository`,
      assumeRolePolicy: serviceTrustPolicy(this, "build-trust-policy", "codebuild.amazonaws.com", accountId),
    });
    new IamRolePolicy(this, "build-role-policy", {
      name: "build-and-push",
      role: this.buildRole.id,
      policy: policyDocument(this, "build-policy-document", [
        {
          sid: "WriteBuildLogs",
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${buildLogGroupArn}:log-stream:${svc.name}/*`],
        },
        {
          sid: "ReadWriteArtifacts",
          effect: "Allow",
          actions: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketAcl", "s3:GetBucketLocation"],
          resources: [bucketArn, ownArtifacts],
        },
        kmsStatement,
        {
          sid: "EcrLogin",
          effect: "Allow",
          // The registry login token is account-wide: AWS authorizes it only on "*".
          actions: ["ecr:GetAuthorizationToken"],
          resources: ["*"],
        },
        {
          sid: "PushToOwnRepository",
          effect: "Allow",
          actions: [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
            "ecr:DescribeImages",
          ],
          resources: [svc.ecrRepositoryArn],
        },
        // The release task definition starts from the config revision Terraform registered.
        { sid: "ReadConfigRevision", effect: "Allow", actions: ["ecs:DescribeTaskDefinition"], resources: ["*"] },
        ...(svc.codeDeploy
          ? []
          : [
              // Rolling services: the Deploy stage (this project, MODE=deploy) registers the release and updates the service.
              { sid: "RegisterReleaseRevision", effect: "Allow", actions: ["ecs:RegisterTaskDefinition"], resources: ["*"] },
              { sid: "DeployOwnService", effect: "Allow", actions: ["ecs:UpdateService", "ecs:DescribeServices"], resources: [ecsArn(`service/${svc.clusterName}/${svc.serviceName}`)] },
              passTaskRoles,
            ]),
      ]),
    });

    this.buildProject = new CodebuildProject(this, "build-project", {
      name: projectName,
      description: `Builds ${svc.repository} into ${svc.name}'s ECR repository, tagged with the commit SHA`,
      serviceRole: this.buildRole.arn,
      encryptionKey: settings.dataKmsKeyArn,
      buildTimeout: 30,
      queuedTimeout: 60,
      source: { type: "CODEPIPELINE", buildspec: buildSpec() },
      artifacts: { type: "CODEPIPELINE" },
      environment: {
        type: "LINUX_CONTAINER",
        computeType: settings.buildComputeType ?? "BUILD_GENERAL1_SMALL",
        image: settings.buildImage ?? "aws/codebuild/standard:7.0",
        imagePullCredentialsType: "CODEBUILD",
        // Privileged mode only because `docker build` needs the Docker daemon inside the build
        // container; the build runs nothing else and its role can only push to one repository.
        privilegedMode: true,
        environmentVariable: [
          { name: "REPOSITORY_URI", value: svc.ecrRepositoryUrl, type: "PLAINTEXT" },
          { name: "CONTAINER_NAME", value: svc.containerName, type: "PLAINTEXT" },
          { name: "DOCKERFILE", value: svc.dockerfile ?? "Dockerfile", type: "PLAINTEXT" },
          { name: "CONTAINER_PORT", value: String(svc.containerPort), type: "PLAINTEXT" },
          // Updated by every apply: a release always starts from the current config.
          { name: "CONFIG_TASK_DEFINITION", value: svc.configTaskDefinitionArn, type: "PLAINTEXT" },
          { name: "CLUSTER", value: svc.clusterName, type: "PLAINTEXT" },
          { name: "SERVICE", value: svc.serviceName, type: "PLAINTEXT" },
          { name: "DEPLOY_WITH", value: svc.codeDeploy ? "codedeploy" : "ecs", type: "PLAINTEXT" },
          // Rounds of `aws ecs wait services-stable` (10 minutes each) the rolling deploy may take.
          { name: "WAIT_ROUNDS", value: String(Math.ceil((settings.deployTimeoutMinutes ?? 30) / 10)), type: "PLAINTEXT" },
          ...(svc.codeDeploy
            ? [
                {
                  name: "APPSPEC_NETWORK",
                  value: Fn.jsonencode({
                    // AppSpec property names (PascalCase), as CodeDeploy reads them.
                    AwsvpcConfiguration: { Subnets: svc.codeDeploy.appSpecNetwork.subnetIds, SecurityGroups: svc.codeDeploy.appSpecNetwork.securityGroupIds, AssignPublicIp: svc.codeDeploy.appSpecNetwork.assignPublicIp ? "ENABLED" : "DISABLED" },
                  }),
                  type: "PLAINTEXT",
                },
                { name: "CAPACITY_PROVIDER_STRATEGY", value: JSON.stringify(svc.codeDeploy.capacityProviderStrategy.map((c) => ({ CapacityProvider: c.capacityProvider, Base: c.base ?? 0, Weight: c.weight ?? 0 }))), type: "PLAINTEXT" },
              ]
            : []),
        ],
      },
      logsConfig: {
        cloudwatchLogs: { status: "ENABLED", groupName: props.cicd.buildLogGroup.name, streamName: svc.name },
        s3Logs: { status: "DISABLED" },
      },
      tags: { Service: svc.name },
    });
    skipCheckov(this.buildProject, "CKV_AWS_316", "docker build needs privileged mode; the project builds only this service's repository and pushes only to its ECR repository");

    // --- CodePipeline: Source -> Build -> [Approval] -> Deploy ---------------------------
    this.pipelineRole = new IamRole(this, "pipeline-role", {
      name: naming.name("iamRole", `${svc.name}-codepipeline`),
      description: `CodePipeline for ${svc.name}: source, build, approval and ECS deploy`,
      assumeRolePolicy: serviceTrustPolicy(this, "pipeline-trust-policy", "codepipeline.amazonaws.com", accountId),
    });
    const pipelineStatements: DataAwsIamPolicyDocumentStatement[] = [
      {
        sid: "ReadWriteArtifacts",
        effect: "Allow",
        actions: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketVersioning", "s3:GetBucketLocation"],
        resources: [bucketArn, ownArtifacts],
      },
      kmsStatement,
      {
        sid: "UseSourceConnection",
        effect: "Allow",
        // Connections created before the CodeConnections rename answer to the old prefix.
        actions: ["codestar-connections:UseConnection", "codeconnections:UseConnection"],
        resources: [props.cicd.connectionArn],
      },
      { sid: "RunBuild", effect: "Allow", actions: ["codebuild:StartBuild", "codebuild:BatchGetBuilds"], resources: [this.buildProject.arn] },
    ];
    if (svc.codeDeploy) {
      const cd = (resource: string) => `arn:${partition}:codedeploy:${region}:${accountId}:${resource}`;
      pipelineStatements.push(
        {
          sid: "DeployThroughCodeDeploy",
          effect: "Allow",
          actions: ["codedeploy:CreateDeployment", "codedeploy:GetDeployment", "codedeploy:GetApplication", "codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision", "codedeploy:GetDeploymentConfig"],
          resources: [cd(`application:${svc.codeDeploy.applicationName}`), cd(`deploymentgroup:${svc.codeDeploy.applicationName}/${svc.codeDeploy.deploymentGroupName}`), cd("deploymentconfig:*")],
        },
        // The CodeDeployToECS action registers the release's task definition itself.
        { sid: "RegisterReleaseRevision", effect: "Allow", actions: ["ecs:RegisterTaskDefinition"], resources: ["*"] },
        {
          sid: "TagNewRevisions",
          effect: "Allow",
          actions: ["ecs:TagResource"],
          resources: [ecsArn(`task-definition/${family}:*`)],
          condition: [{ test: "StringEquals", variable: "ecs:CreateAction", values: ["RegisterTaskDefinition"] }],
        },
        passTaskRoles,
      );
    }
    if (settings.approvalTopicArn && settings.manualApproval) {
      pipelineStatements.push({ sid: "NotifyApprovers", effect: "Allow", actions: ["sns:Publish"], resources: [settings.approvalTopicArn] });
    }
    new IamRolePolicy(this, "pipeline-role-policy", {
      name: "deliver",
      role: this.pipelineRole.id,
      policy: policyDocument(this, "pipeline-policy-document", pipelineStatements),
    });

    const stages: CodepipelineStage[] = [
      {
        name: STAGE_NAMES.source,
        action: [
          {
            name: ACTION_NAMES.source,
            category: "Source",
            owner: "AWS",
            provider: "CodeStarSourceConnection",
            version: "1",
            namespace: "SourceVariables",
            outputArtifacts: ["source"],
            configuration: {
              ConnectionArn: props.cicd.connectionArn,
              FullRepositoryId: svc.repository,
              // A manual "Release change" builds this branch (one the pattern matches).
              BranchName: settings.releaseBranch,
              // Manual environments (develop): no push starts the pipeline.
              DetectChanges: settings.trigger === "push" ? "true" : "false",
              OutputArtifactFormat: "CODE_ZIP",
            },
          },
        ],
      },
      {
        name: STAGE_NAMES.build,
        action: [
          {
            name: ACTION_NAMES.build,
            category: "Build",
            owner: "AWS",
            provider: "CodeBuild",
            version: "1",
            inputArtifacts: ["source"],
            // imagedefinitions.json, imageDetail.json (the image by digest), taskdef.json, appspec.yaml
            outputArtifacts: ["release"],
            configuration: {
              ProjectName: this.buildProject.name,
              // The commit that triggered this execution becomes the image tag.
              EnvironmentVariables: JSON.stringify([{ name: "COMMIT_ID", value: "#{SourceVariables.CommitId}", type: "PLAINTEXT" }]),
            },
          },
        ],
      },
    ];
    if (settings.manualApproval) {
      stages.push({
        name: STAGE_NAMES.approval,
        action: [
          {
            name: ACTION_NAMES.approval,
            category: "Approval",
            owner: "AWS",
            provider: "Manual",
            version: "1",
            configuration: {
              CustomData: `Release ${svc.name} commit #{SourceVariables.CommitId} (#{SourceVariables.BranchName}) to ${naming.environment}? Check the Build logs and the alarms dashboard first.`,
              ...(settings.approvalTopicArn ? { NotificationArn: settings.approvalTopicArn } : {}),
            },
          },
        ],
      });
    }
    stages.push({
      name: STAGE_NAMES.deploy,
      action: [
        svc.codeDeploy
          ? {
              // CodeDeploy blue/green: the green task set runs at full size behind the test
              // listener, then traffic shifts per the deployment config; alarms roll it back.
              name: ACTION_NAMES.deploy,
              category: "Deploy",
              owner: "AWS",
              provider: "CodeDeployToECS",
              version: "1",
              inputArtifacts: ["release"],
              configuration: {
                ApplicationName: svc.codeDeploy.applicationName,
                DeploymentGroupName: svc.codeDeploy.deploymentGroupName,
                TaskDefinitionTemplateArtifact: "release",
                TaskDefinitionTemplatePath: "taskdef.json",
                AppSpecTemplateArtifact: "release",
                AppSpecTemplatePath: "appspec.yaml",
                Image1ArtifactName: "release",
                Image1ContainerName: "IMAGE1_NAME",
              },
            }
          : {
              // Rolling: register (config revision + image) and update the service; ECS runs the
              // deployment, its circuit breaker and alarm rollback; the action waits for the outcome.
              name: ACTION_NAMES.deploy,
              category: "Build",
              owner: "AWS",
              provider: "CodeBuild",
              version: "1",
              inputArtifacts: ["release"],
              configuration: {
                ProjectName: this.buildProject.name,
                EnvironmentVariables: JSON.stringify([{ name: "MODE", value: "deploy", type: "PLAINTEXT" }]),
              },
            },
      ],
    });

    this.pipeline = new Codepipeline(this, "pipeline", {
      name: pipelineName,
      pipelineType: "V2",
      executionMode: "SUPERSEDED",
      roleArn: this.pipelineRole.arn,
      artifactStore: [{ type: "S3", location: artifactBucket.bucket.bucket, encryptionKey: { type: "KMS", id: settings.dataKmsKeyArn } }],
      trigger:
        settings.trigger === "push"
          ? [{ providerType: "CodeStarSourceConnection", gitConfiguration: { sourceActionName: ACTION_NAMES.source, push: [{ branches: { includes: [settings.branchPattern] } }] } }]
          : undefined,
      stage: stages,
      tags: { Service: svc.name },
    });

    }
}

/**
 * The inline buildspec. Written without `${` or `%{` (Terraform would read them as template
 * syntax inside the JSON string); variables come from the project and the pipeline.
 * A commit whose image is already in ECR is not rebuilt: re-running an old commit (rollback)
 * redeploys exactly the image that was tested.
 */
export function buildSpec(): string {
  const build = [
    'IMAGE_TAG="$COMMIT_ID"; if [ -z "$IMAGE_TAG" ]; then IMAGE_TAG="$CODEBUILD_RESOLVED_SOURCE_VERSION"; fi',
    'if [ -z "$IMAGE_TAG" ]; then echo "no commit SHA to tag the image with" >&2; exit 1; fi',
    'REGISTRY="$(echo "$REPOSITORY_URI" | cut -d/ -f1)"; REPOSITORY_NAME="$(echo "$REPOSITORY_URI" | cut -d/ -f2-)"',
    'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$REGISTRY"',
    'if aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$IMAGE_TAG" > /dev/null 2>&1; then echo "image $IMAGE_TAG is already in ECR; releasing it unchanged"; else docker build --file "$DOCKERFILE" --tag "$REPOSITORY_URI:$IMAGE_TAG" . && docker push "$REPOSITORY_URI:$IMAGE_TAG"; fi',
    // The release names the image by digest: what was tested is what runs, whatever tags move.
    'DIGEST="$(aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$IMAGE_TAG" --query "imageDetails[0].imageDigest" --output text)"',
    'IMAGE_URI="$REPOSITORY_URI@$DIGEST"',
    `printf '[{"name":"%s","imageUri":"%s"}]' "$CONTAINER_NAME" "$IMAGE_URI" > imagedefinitions.json`,
    `printf '{"ImageURI":"%s"}' "$IMAGE_URI" > imageDetail.json`,
    // The config every release carries: the revision Terraform registered, only the image swapped
    // (for CodeDeploy the action fills in the <IMAGE1_NAME> placeholder from imageDetail.json).
    'if [ "$DEPLOY_WITH" = codedeploy ]; then RELEASE_IMAGE="<IMAGE1_NAME>"; else RELEASE_IMAGE="$IMAGE_URI"; fi',
    'aws ecs describe-task-definition --task-definition "$CONFIG_TASK_DEFINITION" --query taskDefinition > config.json',
    `jq --arg image "$RELEASE_IMAGE" --arg name "$CONTAINER_NAME" '{family, taskRoleArn, executionRoleArn, networkMode, requiresCompatibilities, cpu, memory, runtimePlatform, volumes, containerDefinitions: (.containerDefinitions | map(if .name == $name then .image = $image else . end))} | with_entries(select(.value != null))' config.json > taskdef.json`,
    `if [ "$DEPLOY_WITH" = codedeploy ]; then jq -n --arg c "$CONTAINER_NAME" --argjson p "$CONTAINER_PORT" --argjson net "$APPSPEC_NETWORK" --argjson cps "$CAPACITY_PROVIDER_STRATEGY" '{version: 0.0, Resources: [{TargetService: {Type: "AWS::ECS::Service", Properties: {TaskDefinition: "<TASK_DEFINITION>", LoadBalancerInfo: {ContainerName: $c, ContainerPort: $p}, NetworkConfiguration: $net, CapacityProviderStrategy: $cps}}}]}' > appspec.yaml; else : > appspec.yaml; fi`,
    "cat imagedefinitions.json taskdef.json",
  ];
  const deploy = [
    'ARN="$(aws ecs register-task-definition --cli-input-json file://taskdef.json --query taskDefinition.taskDefinitionArn --output text)"',
    'echo "deploying $ARN to $SERVICE"',
    'aws ecs update-service --cluster "$CLUSTER" --service "$SERVICE" --task-definition "$ARN" > /dev/null',
    // One `wait services-stable` gives up after 10 minutes: wait up to the deploy timeout.
    'for ROUND in $(seq 1 "$WAIT_ROUNDS"); do if aws ecs wait services-stable --cluster "$CLUSTER" --services "$SERVICE"; then break; fi; done',
    // The circuit breaker or an alarm may have rolled back: success only if the release is what runs.
    'RUNNING="$(aws ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" --query "services[0].taskDefinition" --output text)"',
    'if [ "$RUNNING" != "$ARN" ]; then echo "ECS rolled the deployment back; the service runs $RUNNING" >&2; exit 1; fi',
  ];
  const spec = {
    version: "0.2",
    env: { shell: "bash" },
    phases: {
      build: { commands: ['if [ "$MODE" = deploy ]; then set -e; ' + deploy.join("; ") + "; else set -e; " + build.join("; ") + "; fi"] },
    },
    artifacts: { files: ["imagedefinitions.json", "imageDetail.json", "taskdef.json", "appspec.yaml"], "discard-paths": "yes" },
  };
  // JSON is valid YAML; CodeBuild reads it as a buildspec.
  return JSON.stringify(spec, undefined, 2);
}

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const CONNECTION_ARN = /^arn:aws[\w-]*:(codestar-connections|codeconnections):[\w-]+:\d{12}:connection\/[\w-]+$/;
const ECR_URL = /^\d{12}\.dkr\.ecr\.[\w-]+\.amazonaws\.com(\.cn)?\/[a-z0-9][a-z0-9._/-]*$/;
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

const known = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);

function validate(scope: Construct, props: CicdProps): void {
  props.naming.name("s3Bucket", `pipeline-artifacts-${props.accountId}`);
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      if (!props.branchPattern || !props.branchPattern.trim()) {
        problems.push(`branchPattern must name the branches that trigger the pipeline; got ${JSON.stringify(props.branchPattern)}; e.g. "feature/*", "release/*.*.*", "prod/*"`);
      }
      if (known(props.connectionArn) && !CONNECTION_ARN.test(props.connectionArn)) {
        problems.push(`connectionArn must be a CodeConnections connection ARN; got "${props.connectionArn}"; e.g. arn:aws:codeconnections:us-east-1:123456789012:connection/<id>`);
      }
      const retention = logRetentionProblem(props.logRetentionDays);
      if (retention) problems.push(`logRetentionDays ${retention}`);
      if (props.deployTimeoutMinutes !== undefined && (!Number.isInteger(props.deployTimeoutMinutes) || props.deployTimeoutMinutes < 1 || props.deployTimeoutMinutes > 60)) {
        problems.push(`deployTimeoutMinutes must be a whole number of minutes from 1 to 60; got ${props.deployTimeoutMinutes}`);
      }
      return problems;
    },
  });
}

function validateService(scope: Construct, svc: ServicePipelineProps): void {
  const pipelineName = svc.naming.name("generic", svc.name);
  svc.naming.name("iamRole", `${svc.name}-codebuild`);
  svc.naming.name("iamRole", `${svc.name}-codepipeline`);
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      if (pipelineName.length > 100) problems.push(`pipeline name "${pipelineName}" is ${pipelineName.length} characters; CodePipeline allows 100`);
      if (!REPOSITORY.test(svc.repository)) problems.push(`repository must be "workspace/repo"; got ${JSON.stringify(svc.repository)}; e.g. "myorg/${svc.name}"`);
      if (known(svc.ecrRepositoryUrl) && !ECR_URL.test(svc.ecrRepositoryUrl)) {
        problems.push(`ecrRepositoryUrl must be an ECR repository URL without tag; got "${svc.ecrRepositoryUrl}"; e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/${svc.name}`);
      }
      for (const field of ["clusterName", "serviceName", "ecrRepositoryArn"] as const) {
        if (!svc[field]) problems.push(`${field} is required (the deploy and its IAM scope depend on it); got ${JSON.stringify(svc[field])}`);
      }
      if (!svc.containerName) problems.push(`containerName must name the container whose image the deploy replaces; got ${JSON.stringify(svc.containerName)}`);
      if (svc.taskRoleArns.length === 0) problems.push(`taskRoleArns must list the task's execution and task roles (the only roles the pipeline may pass); got none`);
      for (const arn of svc.taskRoleArns) {
        if (known(arn) && !ROLE_ARN.test(arn)) problems.push(`taskRoleArns must be IAM role ARNs; got "${arn}"`);
      }
      return problems;
    },
  });
}
export * from "./codedeploy";
