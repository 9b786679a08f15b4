import { Construct } from "constructs";
import { Token } from "cdktf";
import { CodebuildProject, CodebuildProjectEnvironmentEnvironmentVariable } from "@cdktf/provider-aws/lib/codebuild-project";
import { Codepipeline, CodepipelineStage, CodepipelineStageAction } from "@cdktf/provider-aws/lib/codepipeline";
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
import { imageRepositoryArn } from "../../lib/registry";
import { releaseSpecParameterArn, releaseSpecParameterName } from "./release-spec";

/** When the environment's pipelines run, and what they do (environments/delivery.ts PipelinePlan). */
export interface PipelineSettings {
  /** `build`: docker build once, deploy `targets` in order; `promote`: deploy the digest `promotesFrom` released. */
  readonly kind: "build" | "promote";
  /** Environments the pipelines deploy, in order, all in this account and region; the first is this one. */
  readonly targets: readonly string[];
  /** After the last target, tag the digest `release-x.y.z` (x.y.z from the branch name). */
  readonly tagsRelease: boolean;
  /** Promotions: the account and region whose registry holds the release tags. */
  readonly promotesFrom?: { readonly environment: string; readonly accountId: string; readonly region: string };
  /** Insert a manual approval stage before the first deploy (prod). */
  readonly manualApproval: boolean;
  /** Branches whose pushes start the pipeline, e.g. `feature/*`, `release/*.*.*`, `prod/*`. */
  readonly branchPattern: string;
  /** `push`: pushes to `branchPattern` start the pipelines; `manual`: only an operator does. */
  readonly trigger: "push" | "manual";
  /** The branch a manual "Release change" builds (one `branchPattern` matches). */
  readonly releaseBranch: string;
  /**
   * SNS topic notified when a release waits for approval (only with manualApproval).
   * @default - no notification; approvers watch the console
   */
  readonly approvalTopicArn?: string;
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
  /** Customer-managed key for artifacts and build output. */
  readonly dataKmsKeyArn: string;
  /** Customer-managed key of the CodeBuild log group. */
  readonly logsKmsKeyArn: string;
  /** Retention of the CodeBuild log group, in days (a CloudWatch-allowed value). */
  readonly logRetentionDays: number;
  /** The account's CodeConnections connection to Bitbucket (the account stack creates it). */
  readonly connectionArn: string;
  readonly pipeline: PipelineSettings;
  /**
   * Minutes a deploy may take (ECS steady state, or the whole CodeDeploy deployment).
   * @default 60
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

/** One service the environment's pipeline delivers. */
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
  /** The environment's delivery plumbing: connection, artifact bucket, keys and pipeline settings. */
  readonly cicd: Cicd;
  /** Service name (kebab-case, unique); part of every physical name, the same in every environment. */
  readonly name: string;
  /** Bitbucket repository as `workspace/repo`. */
  readonly repository: string;
  /** The account registry's repository of the image (`<project>/<image>`). */
  readonly imageRepositoryName: string;
  /** Its URL (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`). */
  readonly imageRepositoryUrl: string;
  /**
   * Dockerfile path inside the repository.
   * @default "Dockerfile"
   */
  readonly dockerfile?: string;
}

/** Stage names operators see in the console and type in CLI commands. */
export const STAGE_NAMES = {
  source: "Source",
  build: "Build",
  resolve: "Resolve",
  approval: "Approval",
  /** `Deploy-<environment>`, one per target in order. */
  deploy: (environment: string) => `Deploy-${environment}`,
  release: "Release",
} as const;
/** Action names inside those stages. */
export const ACTION_NAMES = { source: "Source", build: "Build", resolve: "Resolve", approval: "ManualApproval", deploy: "Deploy", release: "TagRelease" } as const;

/**
 * The environment's delivery plumbing, shared by its pipelines: the artifact bucket, the
 * CodeBuild log group and the pipeline settings. Only environments with a pipeline of their
 * own have one (cicd `build` or `promote`); a `delivered` environment only publishes its
 * release specs (ReleaseSpec).
 */
export class Cicd extends Construct {
  /** Connection ARN every pipeline uses (the account's). */
  public readonly connectionArn: string;
  /**
   * The environment's one artifact store. Each pipeline's roles reach only its own prefix
   * (CodePipeline writes under the first 20 characters of the pipeline name).
   */
  public readonly artifactBucket: SecureBucket;
  /** CodeBuild logs of every pipeline, one stream prefix per service. */
  public readonly buildLogGroup: CloudwatchLogGroup;
  /** What every pipeline of this environment shares. */
  public readonly settings: Readonly<Pick<CicdProps, "dataKmsKeyArn" | "logsKmsKeyArn" | "deployTimeoutMinutes" | "buildImage" | "buildComputeType" | "pipeline">>;
  /** Artifact prefixes claimed by pipelines (they must not overlap). */
  private readonly prefixes = new Map<string, string[]>();

  constructor(scope: Construct, id: string, props: CicdProps) {
    super(scope, id);
    validate(this, props);
    const { naming } = props;
    const { dataKmsKeyArn, logsKmsKeyArn, deployTimeoutMinutes, buildImage, buildComputeType, pipeline } = props;
    this.settings = { dataKmsKeyArn, logsKmsKeyArn, deployTimeoutMinutes, buildImage, buildComputeType, pipeline };
    this.connectionArn = props.connectionArn;

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
 * One service's pipeline (CodePipeline V2 on the environment's connection and artifact bucket):
 *
 * - `build`: Source -> Build (docker build once, push `<commit SHA>` to the account registry,
 *   the image named by digest from here on) -> [Approval] -> Deploy-<env> for each target in
 *   order -> [Release: tag the digest `release-x.y.z`, immutable];
 * - `promote`: Source (`prod/x.y.z`) -> Resolve (the digest `release-x.y.z` names in the
 *   source account, present in this account's replica) -> Approval -> Deploy-<env>.
 *
 * Two CodeBuild projects with separate roles: the build project runs the repository's
 * Dockerfile (untrusted code, privileged Docker) and may only push; the release project may
 * only deploy, into the targets' services, reading each target's ReleaseSpec when it runs.
 */
export class ServicePipeline extends Construct {
  public readonly pipeline: Codepipeline;
  /** Absent for promotions (they never build). */
  public readonly buildProject?: CodebuildProject;
  public readonly buildRole?: IamRole;
  public readonly releaseProject: CodebuildProject;
  public readonly releaseRole: IamRole;
  public readonly pipelineRole: IamRole;

  constructor(scope: Construct, id: string, props: ServicePipelineProps) {
    super(scope, id);
    validateService(this, props);
    const svc = props;
    const settings = props.cicd.settings;
    const plan = settings.pipeline;
    const { naming, accountId, region } = props;
    const partition = props.partition ?? "aws";
    const pipelineName = naming.name("generic", svc.name);
    if (pipelineName.length > 100) {
      throw new ConstructPropsError(this, `pipeline name "${pipelineName}" is ${pipelineName.length} characters; CodePipeline allows 100`);
    }
    const arn = (service: string, resource: string) => `arn:${partition}:${service}:${region}:${accountId}:${resource}`;
    const repositoryArn = imageRepositoryArn(accountId, region, svc.imageRepositoryName, partition);
    const targets = plan.targets.map((environment) => new Naming(naming.project, environment));

    const artifactBucket = props.cicd.artifactBucket;
    const bucketArn = artifactBucket.bucket.arn;
    // Only this pipeline's own artifacts: one service's build cannot touch another's.
    const ownArtifacts = `${bucketArn}/${props.cicd.claimArtifactPrefix(pipelineName, svc.name)}/*`;
    // This pipeline's builds write only their own streams (`<service>/<build id>`) of the shared group.
    const logStreams = `${props.cicd.buildLogGroup.arn}:log-stream:${svc.name}/*`;

    const common: DataAwsIamPolicyDocumentStatement[] = [
      { sid: "WriteBuildLogs", effect: "Allow", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [logStreams] },
      { sid: "ReadWriteArtifacts", effect: "Allow", actions: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketAcl", "s3:GetBucketLocation"], resources: [bucketArn, ownArtifacts] },
      { sid: "UseDataKey", effect: "Allow", actions: ["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], resources: [settings.dataKmsKeyArn] },
    ];
    const projectBase = (description: string, role: IamRole, buildspec: string, variables: CodebuildProjectEnvironmentEnvironmentVariable[], privileged: boolean) => ({
      description,
      serviceRole: role.arn,
      encryptionKey: settings.dataKmsKeyArn,
      buildTimeout: Math.min(480, (settings.deployTimeoutMinutes ?? 60) + 15),
      queuedTimeout: 60,
      source: { type: "CODEPIPELINE", buildspec },
      artifacts: { type: "CODEPIPELINE" },
      environment: {
        type: "LINUX_CONTAINER",
        computeType: settings.buildComputeType ?? "BUILD_GENERAL1_SMALL",
        image: settings.buildImage ?? "aws/codebuild/standard:7.0",
        imagePullCredentialsType: "CODEBUILD",
        privilegedMode: privileged,
        environmentVariable: [
          { name: "SERVICE_NAME", value: svc.name, type: "PLAINTEXT" },
          { name: "REPOSITORY_URI", value: svc.imageRepositoryUrl, type: "PLAINTEXT" },
          { name: "REPOSITORY_NAME", value: svc.imageRepositoryName, type: "PLAINTEXT" },
          ...variables,
        ],
      },
      logsConfig: { cloudwatchLogs: { status: "ENABLED", groupName: props.cicd.buildLogGroup.name, streamName: svc.name }, s3Logs: { status: "DISABLED" } },
      tags: { Service: svc.name },
    });

    // --- Build project: docker build and push (build pipelines only) ---------------------
    if (plan.kind === "build") {
      this.buildRole = new IamRole(this, "build-role", {
        name: naming.name("iamRole", `${svc.name}-codebuild`),
        description: `CodeBuild for ${svc.name}: build and push to its repository of the account registry`,
        assumeRolePolicy: serviceTrustPolicy(this, "build-trust-policy", "codebuild.amazonaws.com", accountId),
      });
      new IamRolePolicy(this, "build-role-policy", {
        name: "build-and-push",
        role: this.buildRole.id,
        policy: policyDocument(this, "build-policy-document", [
          ...common,
          // The registry login token is account-wide: AWS authorizes it only on "*".
          { sid: "EcrLogin", effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
          {
            sid: "PushAndTagOwnRepository",
            effect: "Allow",
            actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:DescribeImages"],
            resources: [repositoryArn],
          },
        ]),
      });
      this.buildProject = new CodebuildProject(this, "build-project", {
        name: naming.name("generic", `${svc.name}-build`),
        ...projectBase(`Builds ${svc.repository} once into ${svc.imageRepositoryName}, tagged with the commit SHA; tags releases`, this.buildRole, buildSpec(), [{ name: "DOCKERFILE", value: svc.dockerfile ?? "Dockerfile", type: "PLAINTEXT" }], true),
      });
      skipCheckov(this.buildProject, "CKV_AWS_316", "docker build needs privileged mode; the project builds only this service's repository and may only push to its ECR repository (deploys run in the release project)");
    }

    // --- Release project: deploy a digest into each target (and resolve promotions) -------
    this.releaseRole = new IamRole(this, "release-role", {
      name: naming.name("iamRole", `${svc.name}-release`),
      description: `Releases ${svc.name} into ${plan.targets.join(", ")}: the config revision with the image by digest`,
      assumeRolePolicy: serviceTrustPolicy(this, "release-trust-policy", "codebuild.amazonaws.com", accountId),
    });
    const targetArns = (f: (t: Naming) => string[]) => targets.flatMap(f);
    const releaseStatements: DataAwsIamPolicyDocumentStatement[] = [
      ...common,
      { sid: "ReadReleaseSpecs", effect: "Allow", actions: ["ssm:GetParameter"], resources: targets.map((t) => releaseSpecParameterArn(t, svc.name, accountId, region, partition)) },
      { sid: "FindImageByDigest", effect: "Allow", actions: ["ecr:DescribeImages"], resources: [repositoryArn] },
      // Task definitions have no resource scope for Describe/Register: AWS authorizes them on "*" only.
      { sid: "ReadConfigAndRegisterRelease", effect: "Allow", actions: ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"], resources: ["*"] },
      {
        sid: "DeployTargetServices",
        effect: "Allow",
        actions: ["ecs:UpdateService", "ecs:DescribeServices"],
        resources: targetArns((t) => [arn("ecs", `service/${t.name("ecsCluster", "cluster")}/${t.name("ecsService", svc.name)}`)]),
      },
      {
        sid: "PassTargetTaskRoles",
        effect: "Allow",
        actions: ["iam:PassRole"],
        resources: targetArns((t) => [`${svc.name}-execution`, `${svc.name}-task`, `${svc.name}-migration-execution`].map((role) => `arn:${partition}:iam::${accountId}:role/${t.name("iamRole", role)}`)),
        condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
      },
      {
        sid: "RunTargetMigrations",
        effect: "Allow",
        actions: ["ecs:RunTask"],
        resources: targetArns((t) => [arn("ecs", `task-definition/${t.name("ecsService", `${svc.name}-migration`)}:*`)]),
        condition: [{ test: "ArnEquals", variable: "ecs:cluster", values: targets.map((t) => arn("ecs", `cluster/${t.name("ecsCluster", "cluster")}`)) }],
      },
      { sid: "FollowTargetMigrations", effect: "Allow", actions: ["ecs:DescribeTasks"], resources: targetArns((t) => [arn("ecs", `task/${t.name("ecsCluster", "cluster")}/*`)]) },
      {
        sid: "DeployThroughCodeDeploy",
        effect: "Allow",
        actions: ["codedeploy:CreateDeployment", "codedeploy:GetDeployment", "codedeploy:GetDeploymentConfig", "codedeploy:RegisterApplicationRevision", "codedeploy:GetApplicationRevision"],
        resources: [...targetArns((t) => [arn("codedeploy", `application:${t.name("generic", svc.name)}`), arn("codedeploy", `deploymentgroup:${t.name("generic", svc.name)}/${t.name("generic", svc.name)}`)]), arn("codedeploy", "deploymentconfig:*")],
      },
    ];
    if (plan.promotesFrom) {
      const from = plan.promotesFrom;
      releaseStatements.push({
        sid: "ReadReleaseTagsAtSource",
        effect: "Allow",
        actions: ["ecr:DescribeImages"],
        resources: [imageRepositoryArn(from.accountId, from.region, svc.imageRepositoryName, partition)],
      });
    }
    new IamRolePolicy(this, "release-role-policy", { name: "release", role: this.releaseRole.id, policy: policyDocument(this, "release-policy-document", releaseStatements) });
    this.releaseProject = new CodebuildProject(this, "release-project", {
      name: naming.name("generic", `${svc.name}-release`),
      ...projectBase(`Releases ${svc.name} by digest into ${plan.targets.join(", ")}`, this.releaseRole, releaseSpec(), [
        { name: "PARAMETER_PREFIX", value: `/${naming.project}/`, type: "PLAINTEXT" },
        { name: "SPEC_SUFFIX", value: releaseSpecParameterName(naming, svc.name).slice(naming.parameterPath.length), type: "PLAINTEXT" },
        { name: "WAIT_MINUTES", value: String(settings.deployTimeoutMinutes ?? 60), type: "PLAINTEXT" },
        ...(plan.promotesFrom
          ? [
              { name: "SOURCE_REGISTRY", value: plan.promotesFrom.accountId, type: "PLAINTEXT" },
              { name: "SOURCE_REGION", value: plan.promotesFrom.region, type: "PLAINTEXT" },
            ]
          : []),
      ], false),
    });

    // --- Pipeline ----------------------------------------------------------------------
    this.pipelineRole = new IamRole(this, "pipeline-role", {
      name: naming.name("iamRole", `${svc.name}-codepipeline`),
      description: `CodePipeline for ${svc.name}: source, ${plan.kind}, approval and release`,
      assumeRolePolicy: serviceTrustPolicy(this, "pipeline-trust-policy", "codepipeline.amazonaws.com", accountId),
    });
    const pipelineStatements: DataAwsIamPolicyDocumentStatement[] = [
      { sid: "ReadWriteArtifacts", effect: "Allow", actions: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketVersioning", "s3:GetBucketLocation"], resources: [bucketArn, ownArtifacts] },
      common[2],
      {
        sid: "UseSourceConnection",
        effect: "Allow",
        // Connections created before the CodeConnections rename answer to the old prefix.
        actions: ["codestar-connections:UseConnection", "codeconnections:UseConnection"],
        resources: [props.cicd.connectionArn],
      },
      { sid: "RunProjects", effect: "Allow", actions: ["codebuild:StartBuild", "codebuild:BatchGetBuilds"], resources: [this.releaseProject.arn, ...(this.buildProject ? [this.buildProject.arn] : [])] },
    ];
    if (plan.approvalTopicArn && plan.manualApproval) {
      pipelineStatements.push({ sid: "NotifyApprovers", effect: "Allow", actions: ["sns:Publish"], resources: [plan.approvalTopicArn] });
    }
    new IamRolePolicy(this, "pipeline-role-policy", { name: "deliver", role: this.pipelineRole.id, policy: policyDocument(this, "pipeline-policy-document", pipelineStatements) });

    const codeBuild = (name: string, project: CodebuildProject, variables: Record<string, string>, output?: string): CodepipelineStageAction => {
      // Build and Resolve read the source and hand on the image; every later stage reads that image.
      const first = name === ACTION_NAMES.build || name === ACTION_NAMES.resolve;
      return {
        name,
        category: "Build",
        owner: "AWS",
        provider: "CodeBuild",
        version: "1",
        inputArtifacts: [first ? "source" : "image"],
        outputArtifacts: output ? [output] : undefined,
        namespace: first ? `${name}Variables` : undefined,
        configuration: {
          ProjectName: project.name,
          EnvironmentVariables: JSON.stringify(Object.entries(variables).map(([key, value]) => ({ name: key, value, type: "PLAINTEXT" }))),
        },
      };
    };
    const source = "#{SourceVariables.CommitId} (#{SourceVariables.BranchName})";
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
              // A manual "Release change" takes this branch (one the pattern matches).
              BranchName: plan.releaseBranch,
              // Manual environments (develop): no push starts the pipeline.
              DetectChanges: plan.trigger === "push" ? "true" : "false",
              OutputArtifactFormat: "CODE_ZIP",
            },
          },
        ],
      },
      plan.kind === "build"
        ? { name: STAGE_NAMES.build, action: [codeBuild(ACTION_NAMES.build, this.buildProject!, { MODE: "build", COMMIT_ID: "#{SourceVariables.CommitId}" }, "image")] }
        : { name: STAGE_NAMES.resolve, action: [codeBuild(ACTION_NAMES.resolve, this.releaseProject, { MODE: "resolve", BRANCH: "#{SourceVariables.BranchName}", FROM_ENVIRONMENT: plan.promotesFrom?.environment ?? "" }, "image")] },
    ];
    if (plan.manualApproval) {
      const image = plan.kind === "build" ? "#{BuildVariables.IMAGE_URI}" : "#{ResolveVariables.IMAGE_URI} (#{ResolveVariables.RELEASE_TAG})";
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
              CustomData: `Release ${svc.name} ${image} from ${source} to ${plan.targets.join(", ")}? Check the build logs and the alarms dashboard first.`,
              ...(plan.approvalTopicArn ? { NotificationArn: plan.approvalTopicArn } : {}),
            },
          },
        ],
      });
    }
    for (const target of plan.targets) {
      // Each target's release project run reads that target's config; a failed deploy stops the chain.
      stages.push({ name: STAGE_NAMES.deploy(target), action: [codeBuild(ACTION_NAMES.deploy, this.releaseProject, { MODE: "deploy", TARGET: target })] });
    }
    if (plan.tagsRelease && this.buildProject) {
      stages.push({ name: STAGE_NAMES.release, action: [codeBuild(ACTION_NAMES.release, this.buildProject, { MODE: "tag", BRANCH: "#{SourceVariables.BranchName}" })] });
    }

    this.pipeline = new Codepipeline(this, "pipeline", {
      name: pipelineName,
      pipelineType: "V2",
      executionMode: "SUPERSEDED",
      roleArn: this.pipelineRole.arn,
      artifactStore: [{ type: "S3", location: artifactBucket.bucket.bucket, encryptionKey: { type: "KMS", id: settings.dataKmsKeyArn } }],
      trigger:
        plan.trigger === "push"
          ? [{ providerType: "CodeStarSourceConnection", gitConfiguration: { sourceActionName: ACTION_NAMES.source, push: [{ branches: { includes: [plan.branchPattern] } }] } }]
          : undefined,
      stage: stages,
      tags: { Service: svc.name },
    });
  }
}

/** A buildspec from shell lines per MODE. JSON is valid YAML; CodeBuild reads it as a buildspec. */
function modeSpec(modes: Record<string, readonly string[]>, files: readonly string[], exported: readonly string[]): string {
  const branches = Object.entries(modes).map(([mode, lines]) => `if [ "$MODE" = ${mode} ]; then ${lines.join("; ")}; fi`);
  const knownMode = Object.keys(modes).map((m) => `[ "$MODE" = ${m} ]`).join(" || ");
  const spec = {
    version: "0.2",
    env: { shell: "bash", "exported-variables": [...exported] },
    // Exported to the pipeline (#{BuildVariables.IMAGE_URI}); empty where a mode does not set one.
    phases: { build: { commands: [`set -e; if ! { ${knownMode}; }; then echo "MODE must be one of ${Object.keys(modes).join(", ")}; got '$MODE'" >&2; exit 1; fi; ` + branches.join("; ") + "; " + exported.map((v) => `export ${v}="$${v}"`).join("; ")] } },
    artifacts: { files: [...files], "discard-paths": "yes" },
  };
  return JSON.stringify(spec, undefined, 2);
}

/** `x.y.z` from a branch name (`release/1.2.3`, `prod/1.2.3`), or fail. Written without `${` (Terraform template syntax). */
const VERSION_FROM_BRANCH = [
  'VERSION="$(echo "$BRANCH" | grep -oE "[0-9]+\\.[0-9]+\\.[0-9]+$" || true)"',
  'if [ -z "$VERSION" ]; then echo "branch $BRANCH names no version x.y.z; release branches are release/x.y.z, promotions prod/x.y.z" >&2; exit 1; fi',
  'RELEASE_TAG="release-$VERSION"',
];

/**
 * The build project's buildspec. `build`: build and push the commit once (a commit already in
 * the registry is not rebuilt: re-running it redeploys exactly what was tested), and hand on
 * the image by digest. `tag`: give that digest the immutable tag `release-x.y.z` after the
 * last environment ran it; a tag that already names another digest fails the release.
 */
export function buildSpec(): string {
  const build = [
    'IMAGE_TAG="$COMMIT_ID"; if [ -z "$IMAGE_TAG" ]; then IMAGE_TAG="$CODEBUILD_RESOLVED_SOURCE_VERSION"; fi',
    'if [ -z "$IMAGE_TAG" ]; then echo "no commit SHA to tag the image with" >&2; exit 1; fi',
    'REGISTRY="$(echo "$REPOSITORY_URI" | cut -d/ -f1)"',
    'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$REGISTRY"',
    'if aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$IMAGE_TAG" > /dev/null 2>&1; then echo "image $IMAGE_TAG is already in the registry; releasing it unchanged"; else docker build --file "$DOCKERFILE" --tag "$REPOSITORY_URI:$IMAGE_TAG" . && docker push "$REPOSITORY_URI:$IMAGE_TAG"; fi',
    // From here on the release names the image by digest: what was tested is what runs.
    'DIGEST="$(aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$IMAGE_TAG" --query "imageDetails[0].imageDigest" --output text)"',
    'IMAGE_URI="$REPOSITORY_URI@$DIGEST"',
    `printf '{"ImageURI":"%s"}' "$IMAGE_URI" > imageDetail.json`,
    'echo "built $IMAGE_URI"',
  ];
  const tag = [
    ...VERSION_FROM_BRANCH,
    'IMAGE_URI="$(jq -r .ImageURI imageDetail.json)"; DIGEST="$(echo "$IMAGE_URI" | cut -d@ -f2)"',
    'TAGGED="$(aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$RELEASE_TAG" --query "imageDetails[0].imageDigest" --output text 2>/dev/null || true)"',
    'if [ "$TAGGED" = "$DIGEST" ]; then echo "$RELEASE_TAG already names $DIGEST"; elif [ -n "$TAGGED" ]; then echo "$RELEASE_TAG already names $TAGGED (tags are immutable); release this build as a new version x.y.z" >&2; exit 1; else MANIFEST="$(aws ecr batch-get-image --repository-name "$REPOSITORY_NAME" --image-ids imageDigest="$DIGEST" --query "images[0].imageManifest" --output text)"; aws ecr put-image --repository-name "$REPOSITORY_NAME" --image-tag "$RELEASE_TAG" --image-manifest "$MANIFEST" > /dev/null; echo "tagged $DIGEST as $RELEASE_TAG"; fi',
  ];
  return modeSpec({ build, tag }, ["imageDetail.json"], ["IMAGE_URI"]);
}

/**
 * The release project's buildspec. `deploy`: read the target's ReleaseSpec, check the digest
 * is in the target's registry, run a database client's migrations with that image (a non-zero
 * exit deploys nothing), register the target's config revision with only the image
 * swapped, deploy it (ECS rolling, or a CodeDeploy deployment with the AppSpec), wait, and
 * succeed only if the service then runs that revision (a circuit breaker or alarm rollback
 * fails the stage). `resolve`: the digest `release-x.y.z` names in the source registry, once
 * replication has brought it into this account's repository.
 */
export function releaseSpec(): string {
  const deploy = [
    'if [ -z "$TARGET" ]; then echo "TARGET (the environment to deploy) is not set" >&2; exit 1; fi',
    'IMAGE_URI="$(jq -r .ImageURI imageDetail.json)"; DIGEST="$(echo "$IMAGE_URI" | cut -d@ -f2)"',
    'case "$DIGEST" in sha256:*) ;; *) echo "the release names no digest: $IMAGE_URI" >&2; exit 1;; esac',
    'SPEC="$(aws ssm get-parameter --name "$PARAMETER_PREFIX$TARGET/$SPEC_SUFFIX" --query Parameter.Value --output text)"',
    'get() { echo "$SPEC" | jq -r "$1"; }',
    'CLUSTER="$(get .cluster)"; SERVICE="$(get .service)"; CONTAINER="$(get .container)"',
    'aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageDigest="$DIGEST" > /dev/null',
    // Database clients: the migrations run first, with the release's image; a failure deploys nothing.
    'MIGRATION="$(get .migrationTaskDefinition)"; if [ "$MIGRATION" = null ]; then MIGRATION=""; fi',
    `if [ -n "$MIGRATION" ]; then aws ecs describe-task-definition --task-definition "$MIGRATION" --query taskDefinition > migration.json; jq --arg image "$IMAGE_URI" '{family, taskRoleArn, executionRoleArn, networkMode, requiresCompatibilities, cpu, memory, runtimePlatform, volumes, containerDefinitions: (.containerDefinitions | map(.image = $image))} | with_entries(select(.value != null))' migration.json > migration-taskdef.json; MIGRATION_ARN="$(aws ecs register-task-definition --cli-input-json file://migration-taskdef.json --query taskDefinition.taskDefinitionArn --output text)"; NETWORK="$(get .network | jq -c '{awsvpcConfiguration: {subnets: .AwsvpcConfiguration.Subnets, securityGroups: .AwsvpcConfiguration.SecurityGroups, assignPublicIp: .AwsvpcConfiguration.AssignPublicIp}}')"; TASK="$(aws ecs run-task --cluster "$CLUSTER" --task-definition "$MIGRATION_ARN" --launch-type FARGATE --network-configuration "$NETWORK" --query "tasks[0].taskArn" --output text)"; echo "migrations: $TASK ($MIGRATION_ARN)"; aws ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$TASK"; CODE="$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" --query "tasks[0].containers[0].exitCode" --output text)"; if [ "$CODE" != 0 ]; then echo "the migrations task $TASK exited $CODE; nothing was deployed" >&2; exit 1; fi; fi`,
    'aws ecs describe-task-definition --task-definition "$(get .configTaskDefinition)" --query taskDefinition > config.json',
    `jq --arg image "$IMAGE_URI" --arg name "$CONTAINER" '{family, taskRoleArn, executionRoleArn, networkMode, requiresCompatibilities, cpu, memory, runtimePlatform, volumes, containerDefinitions: (.containerDefinitions | map(if .name == $name then .image = $image else . end))} | with_entries(select(.value != null))' config.json > taskdef.json`,
    'ARN="$(aws ecs register-task-definition --cli-input-json file://taskdef.json --query taskDefinition.taskDefinitionArn --output text)"',
    'echo "releasing $ARN ($IMAGE_URI) to $TARGET/$SERVICE through $(get .deployWith)"',
    `if [ "$(get .deployWith)" = codedeploy ]; then APPSPEC="$(jq -n --arg td "$ARN" --arg c "$CONTAINER" --argjson p "$(get .containerPort)" --argjson net "$(get .network)" --argjson cps "$(get .capacityProviderStrategy)" '{version: 0.0, Resources: [{TargetService: {Type: "AWS::ECS::Service", Properties: {TaskDefinition: $td, LoadBalancerInfo: {ContainerName: $c, ContainerPort: $p}, NetworkConfiguration: $net, CapacityProviderStrategy: $cps}}}]}')"; jq -n --arg app "$(get .codeDeployApplication)" --arg group "$(get .codeDeployGroup)" --arg content "$APPSPEC" '{applicationName: $app, deploymentGroupName: $group, revision: {revisionType: "AppSpecContent", appSpecContent: {content: $content}}}' > deployment.json; ID="$(aws deploy create-deployment --cli-input-json file://deployment.json --query deploymentId --output text)"; echo "CodeDeploy deployment $ID"; END=$(( $(date +%s) + WAIT_MINUTES * 60 )); while true; do STATUS="$(aws deploy get-deployment --deployment-id "$ID" --query deploymentInfo.status --output text)"; case "$STATUS" in Succeeded) break;; Failed|Stopped) echo "deployment $ID ended $STATUS (CodeDeploy rolled back)" >&2; exit 1;; esac; if [ "$(date +%s)" -gt "$END" ]; then echo "deployment $ID still $STATUS after $WAIT_MINUTES minutes" >&2; exit 1; fi; sleep 15; done; else aws ecs update-service --cluster "$CLUSTER" --service "$SERVICE" --task-definition "$ARN" > /dev/null; for ROUND in $(seq 1 $(( (WAIT_MINUTES + 9) / 10 ))); do if aws ecs wait services-stable --cluster "$CLUSTER" --services "$SERVICE"; then break; fi; done; fi`,
    // The circuit breaker or an alarm may have rolled back: success only if the release is what runs.
    'RUNNING="$(aws ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" --query "services[0].taskDefinition" --output text)"',
    'if [ "$RUNNING" != "$ARN" ]; then echo "the release was rolled back; $TARGET/$SERVICE runs $RUNNING" >&2; exit 1; fi',
    'echo "$TARGET/$SERVICE runs $ARN"',
  ];
  const resolve = [
    ...VERSION_FROM_BRANCH,
    'DIGEST="$(aws ecr describe-images --registry-id "$SOURCE_REGISTRY" --region "$SOURCE_REGION" --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$RELEASE_TAG" --query "imageDetails[0].imageDigest" --output text 2>/dev/null || true)"',
    'if [ -z "$DIGEST" ] || [ "$DIGEST" = None ]; then echo "$RELEASE_TAG was never released through $FROM_ENVIRONMENT (no such tag in registry $SOURCE_REGISTRY); finish the release there first" >&2; exit 1; fi',
    // Replication copies each push within minutes; wait for the replica rather than pull across accounts.
    'for TRY in $(seq 1 30); do if aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageDigest="$DIGEST" > /dev/null 2>&1; then break; fi; if [ "$TRY" = 30 ]; then echo "$DIGEST has not replicated into $REPOSITORY_NAME" >&2; exit 1; fi; sleep 20; done',
    'IMAGE_URI="$REPOSITORY_URI@$DIGEST"',
    `printf '{"ImageURI":"%s"}' "$IMAGE_URI" > imageDetail.json`,
    'echo "$RELEASE_TAG is $IMAGE_URI, as $FROM_ENVIRONMENT ran it"',
  ];
  return modeSpec({ deploy, resolve }, ["imageDetail.json"], ["IMAGE_URI", "RELEASE_TAG"]);
}

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const CONNECTION_ARN = /^arn:aws[\w-]*:(codestar-connections|codeconnections):[\w-]+:\d{12}:connection\/[\w-]+$/;
const ECR_URL = /^\d{12}\.dkr\.ecr\.[\w-]+\.amazonaws\.com(\.cn)?\/[a-z0-9][a-z0-9._/-]*$/;

const known = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);

function validate(scope: Construct, props: CicdProps): void {
  props.naming.name("s3Bucket", `pipeline-artifacts-${props.accountId}`);
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      const p = props.pipeline;
      if (!p.branchPattern || !p.branchPattern.trim()) {
        problems.push(`branchPattern must name the branches that trigger the pipeline; got ${JSON.stringify(p.branchPattern)}; e.g. "feature/*", "release/*.*.*", "prod/*"`);
      }
      if (p.targets.length === 0) problems.push(`pipeline targets must name at least the environment itself; got none`);
      else if (p.targets[0] !== props.naming.environment) problems.push(`pipeline targets must start with this environment (${props.naming.environment}); got ${JSON.stringify(p.targets)}`);
      if (p.kind === "promote" && (!p.promotesFrom || p.targets.length !== 1)) problems.push(`a promotion deploys only its own environment, from a named source; got targets ${JSON.stringify(p.targets)} and source ${JSON.stringify(p.promotesFrom?.environment)}`);
      if (p.kind === "promote" && p.tagsRelease) problems.push(`a promotion never builds, so it cannot tag a release; got tagsRelease true`);
      if (!props.connectionArn) {
        problems.push(`connectionArn must name the account's Bitbucket connection; got none; set accounts.<account>.sourceConnectionArn (the account stack's output source_connection_arn)`);
      } else if (known(props.connectionArn) && !CONNECTION_ARN.test(props.connectionArn)) {
        problems.push(`connectionArn must be a CodeConnections connection ARN; got "${props.connectionArn}"; e.g. arn:aws:codeconnections:us-east-1:123456789012:connection/<id>`);
      }
      const retention = logRetentionProblem(props.logRetentionDays);
      if (retention) problems.push(`logRetentionDays ${retention}`);
      if (props.deployTimeoutMinutes !== undefined && (!Number.isInteger(props.deployTimeoutMinutes) || props.deployTimeoutMinutes < 5 || props.deployTimeoutMinutes > 465)) {
        problems.push(`deployTimeoutMinutes must be a whole number of minutes from 5 to 465 (CodeBuild stops a build after 480); got ${props.deployTimeoutMinutes}`);
      }
      return problems;
    },
  });
}

function validateService(scope: Construct, svc: ServicePipelineProps): void {
  for (const role of ["codebuild", "codepipeline", "release"]) svc.naming.name("iamRole", `${svc.name}-${role}`);
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      if (!REPOSITORY.test(svc.repository)) problems.push(`repository must be "workspace/repo"; got ${JSON.stringify(svc.repository)}; e.g. "myorg/${svc.name}"`);
      if (known(svc.imageRepositoryUrl) && !ECR_URL.test(svc.imageRepositoryUrl)) {
        problems.push(`imageRepositoryUrl must be an ECR repository URL without tag; got "${svc.imageRepositoryUrl}"; e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/fargate/${svc.name}`);
      } else if (known(svc.imageRepositoryUrl) && !svc.imageRepositoryUrl.endsWith(`/${svc.imageRepositoryName}`)) {
        problems.push(`imageRepositoryUrl must be the URL of imageRepositoryName "${svc.imageRepositoryName}"; got "${svc.imageRepositoryUrl}"`);
      }
      return problems;
    },
  });
}
export * from "./codedeploy";
export * from "./release-spec";
