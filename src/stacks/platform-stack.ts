import { Construct } from "constructs";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider, AwsProviderConfig } from "@cdktf/provider-aws/lib/provider";
import { EnvironmentConfig, subnetPrefixLength, taskSubnetTier } from "../../environments/schema";
import { Naming } from "../naming";
import { Security } from "../../modules/security";
import { Networking } from "../../modules/networking";

export interface PlatformStackProps {
  /** The validated environment (environments/index.ts). */
  readonly config: EnvironmentConfig;
  /**
   * Extra provider arguments, for the emulator environment only (endpoints, skip flags).
   * @default - none: real AWS
   */
  readonly providerOverrides?: Partial<AwsProviderConfig>;
}

/** The stack name of an environment: `<project>-<env>`. Stable: it is the cdktf deploy target. */
export function platformStackName(config: Pick<EnvironmentConfig, "project" | "name">): string {
  return `${config.project}-${config.name}`;
}

/** The state key of an environment: one per environment inside the shared bucket. */
export function stateKey(config: Pick<EnvironmentConfig, "project" | "name">): string {
  return `${config.project}/${config.name}/terraform.tfstate`;
}

/**
 * One environment: provider and backend from config, then the modules wired one way
 * (security -> networking -> ...). Modules never create providers, backends or variables.
 */
export class PlatformStack extends TerraformStack {
  public readonly naming: Naming;
  public readonly security: Security;
  public readonly networking: Networking;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    const c = props.config;
    this.naming = new Naming(c.project, c.name);

    new AwsProvider(this, "aws", {
      region: c.region,
      // A prod config can never be applied with credentials of another account.
      allowedAccountIds: [c.accountId],
      defaultTags: [{ tags: { ...c.tags, Project: c.project, ManagedBy: "cdktf", Stack: id } }],
      ...props.providerOverrides,
    });

    const backend = new S3Backend(this, {
      bucket: c.stateBackend.bucket,
      key: stateKey(c),
      region: c.stateBackend.region,
      dynamodbTable: c.stateBackend.lockTable,
      encrypt: true,
      kmsKeyId: `arn:aws:kms:${c.stateBackend.region}:${c.accountId}:${c.stateBackend.kmsKeyAlias}`,
    });
    if (c.stateBackend.useLockfile) {
      // S3-native locking (Terraform >= 1.10); not yet a typed S3Backend field in cdktf 0.21.
      backend.addOverride("use_lockfile", true);
    }

    this.security = new Security(this, "security", { naming: this.naming, accountId: c.accountId, region: c.region });

    const publicPorts = c.services.filter((s) => s.exposure.type === "public").map((s) => s.containerPort);
    this.networking = new Networking(this, "networking", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      availabilityZones: c.availabilityZones,
      vpcCidr: c.network.vpcCidr,
      subnetPrefixLength: subnetPrefixLength(c),
      natStrategy: c.network.natStrategy,
      vpcEndpoints: c.network.vpcEndpoints,
      taskSubnets: taskSubnetTier(c),
      appPorts: publicPorts,
      flowLogRetentionDays: c.logRetentionDays,
      logsKmsKeyArn: this.security.logsKey.key.arn,
    });

    new TerraformOutput(this, "vpc_id", { value: this.networking.vpc.id });
    new TerraformOutput(this, "public_subnet_ids", { value: this.networking.publicSubnets.map((s) => s.id) });
    new TerraformOutput(this, "private_subnet_ids", { value: this.networking.privateSubnets.map((s) => s.id) });
    new TerraformOutput(this, "database_subnet_ids", { value: this.networking.databaseSubnets.map((s) => s.id) });
    new TerraformOutput(this, "alb_security_group_id", { value: this.networking.albSecurityGroup.id });
    new TerraformOutput(this, "ecs_security_group_id", { value: this.networking.ecsSecurityGroup.id });
    new TerraformOutput(this, "rds_security_group_id", { value: this.networking.rdsSecurityGroup.id });

  }
}
