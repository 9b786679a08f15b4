import { Construct } from "constructs";
import { Fn } from "cdktf";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Naming } from "../../lib/naming";
import { ConstructPropsError } from "../../lib/errors";
import { skipCheckov, skipShortRetention } from "../../lib/checkov";
import { serviceTrustPolicy } from "../../lib/iam-policy";

/** Enhanced Monitoring intervals RDS accepts (0 = off). */
export const MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60] as const;

export interface RdsProps {
  /** Names for this environment. */
  readonly naming: Naming;
  readonly accountId: string;
  /** PostgreSQL major version only (e.g. "15"): AWS retires minors, a pinned minor breaks apply. */
  readonly engineVersion: string;
  /** e.g. db.t4g.micro. */
  readonly instanceClass: string;
  readonly allocatedStorageGiB: number;
  /** Storage autoscaling ceiling; at least allocatedStorageGiB. */
  readonly maxAllocatedStorageGiB: number;
  readonly multiAz: boolean;
  /** Days of automated backups (1-35). */
  readonly backupRetentionDays: number;
  /** Deletion protection; when on, a final snapshot is taken on delete. */
  readonly deletionProtection: boolean;
  /**
   * Initial database.
   * @default "app"
   */
  readonly databaseName?: string;
  /**
   * Master user; its password is generated and kept by RDS in Secrets Manager.
   * @default "app_admin"
   */
  readonly masterUsername?: string;
  /** The networking DB subnet group (database subnets without internet route). */
  readonly dbSubnetGroupName: string;
  /** The networking RDS security group (PostgreSQL from the ECS SG only). */
  readonly securityGroupId: string;
  /** Customer KMS key for storage, the managed master secret and Performance Insights. */
  readonly kmsKeyArn: string;
  /**
   * Performance Insights (7 days, encrypted with kmsKeyArn).
   * @default true
   */
  readonly performanceInsights?: boolean;
  /**
   * Enhanced Monitoring interval in seconds; 0 turns it off.
   * @default 60
   */
  readonly monitoringIntervalSec?: number;
  /**
   * PostgreSQL port.
   * @default 5432
   */
  readonly port?: number;
  /** Retention of the log-export groups (a CloudWatch-allowed value). */
  readonly logRetentionDays: number;
  /** KMS key of the log-export groups. */
  readonly logsKmsKeyArn: string;
}

/** The logs the instance exports to CloudWatch, each into a group the stack creates first. */
export const RDS_LOG_EXPORTS = ["postgresql", "upgrade"] as const;

/**
 * PostgreSQL on RDS: major version pinned, master password managed by RDS in Secrets Manager
 * (never in config, code or state), storage encrypted with the customer key, gp3 with storage
 * autoscaling, SSL forced by the parameter group, backups, Performance Insights, log exports,
 * IAM auth, never publicly accessible.
 */
export class Rds extends Construct {
  public readonly instance: DbInstance;
  public readonly parameterGroup: DbParameterGroup;
  public readonly monitoringRole?: IamRole;
  /** Hostname clients connect to. */
  public readonly address: string;
  public readonly port: number;
  public readonly databaseName: string;
  /** ARN of the RDS-managed master secret (JSON keys `username` and `password`). */
  public readonly masterSecretArn: string;
  /** DbiResourceId (`db-...`): the instance part of `rds-db:connect` ARNs (IAM database authentication). */
  public readonly resourceId: string;
  /**
   * `/aws/rds/instance/<id>/<log>` per export, with the environment's retention and the logs
   * key. RDS would otherwise create them itself on the first export: never expiring,
   * unencrypted, and left behind by a destroy.
   */
  public readonly logGroups: Readonly<Record<(typeof RDS_LOG_EXPORTS)[number], CloudwatchLogGroup>>;

  constructor(scope: Construct, id: string, props: RdsProps) {
    super(scope, id);
    validate(this, props);
    const { naming } = props;
    const major = props.engineVersion;
    const identifier = naming.name("dbInstance", "postgres");
    this.port = props.port ?? 5432;
    this.databaseName = props.databaseName ?? "app";
    const performanceInsights = props.performanceInsights ?? true;
    const monitoringInterval = props.monitoringIntervalSec ?? 60;

    this.parameterGroup = new DbParameterGroup(this, "parameter-group", {
      // The major is part of the name so an upgrade creates the new group before dropping the old.
      name: naming.name("generic", `postgres${major}`),
      family: `postgres${major}`,
      description: `${naming.stem} PostgreSQL ${major}: SSL required`,
      parameter: [{ name: "rds.force_ssl", value: "1", applyMethod: "immediate" }],
      lifecycle: { createBeforeDestroy: true },
    });

    if (monitoringInterval > 0) {
      this.monitoringRole = new IamRole(this, "monitoring-role", {
        name: naming.name("iamRole", "rds-monitoring"),
        description: "RDS Enhanced Monitoring",
        assumeRolePolicy: serviceTrustPolicy(this, "monitoring-trust-policy", "monitoring.rds.amazonaws.com", props.accountId),
      });
      new IamRolePolicyAttachment(this, "monitoring-policy", {
        role: this.monitoringRole.name,
        policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
      });
    }

    const logGroups = {} as Record<(typeof RDS_LOG_EXPORTS)[number], CloudwatchLogGroup>;
    for (const log of RDS_LOG_EXPORTS) {
      logGroups[log] = new CloudwatchLogGroup(this, `${log}-log-group`, {
        name: `/aws/rds/instance/${identifier}/${log}`,
        retentionInDays: props.logRetentionDays,
        kmsKeyId: props.logsKmsKeyArn,
      });
      skipShortRetention(logGroups[log], props.logRetentionDays, "retention is the environment config value from the deployment guide (7, 30 or 90 days)");
    }
    this.logGroups = logGroups;

    this.instance = new DbInstance(this, "instance", {
      identifier,
      engine: "postgres",
      engineVersion: major,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      instanceClass: props.instanceClass,
      port: this.port,
      dbName: this.databaseName,
      username: props.masterUsername ?? "app_admin",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.kmsKeyArn,
      iamDatabaseAuthenticationEnabled: true,
      storageType: "gp3",
      allocatedStorage: props.allocatedStorageGiB,
      maxAllocatedStorage: props.maxAllocatedStorageGiB,
      storageEncrypted: true,
      kmsKeyId: props.kmsKeyArn,
      dbSubnetGroupName: props.dbSubnetGroupName,
      vpcSecurityGroupIds: [props.securityGroupId],
      publiclyAccessible: false,
      parameterGroupName: this.parameterGroup.name,
      multiAz: props.multiAz,
      backupRetentionPeriod: props.backupRetentionDays,
      backupWindow: "03:00-04:00",
      maintenanceWindow: "sun:04:30-sun:05:30",
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: !props.deletionProtection,
      deletionProtection: props.deletionProtection,
      // A protected database always leaves a final snapshot; only unprotected ones skip it.
      skipFinalSnapshot: !props.deletionProtection,
      // Named at creation: each database generation gets its own final snapshot name, so a
      // second destroy (after a rebuild) never collides with the first one's snapshot.
      finalSnapshotIdentifier: props.deletionProtection ? `${identifier}-final-${Fn.formatdate("YYYYMMDDhhmmss", Fn.timestamp())}` : undefined,
      performanceInsightsEnabled: performanceInsights,
      performanceInsightsKmsKeyId: performanceInsights ? props.kmsKeyArn : undefined,
      performanceInsightsRetentionPeriod: performanceInsights ? 7 : undefined,
      monitoringInterval,
      monitoringRoleArn: this.monitoringRole?.arn,
      enabledCloudwatchLogsExports: [...RDS_LOG_EXPORTS],
      // The groups exist before the first export, so RDS never creates its own.
      dependsOn: Object.values(logGroups),
      // No ca_cert_identifier: new instances get AWS's default, rds-ca-rsa2048-g1 (what
      // checkov CKV_AWS_211 asks for). Provider 5.x cannot pass it to CreateDBInstance: it
      // sends a second ModifyDBInstance (ApplyImmediately) right after the create and waits
      // for "available" again, minutes in AWS (80 s on the emulator, half its apply). A CA
      // rotation is a deliberate day-2 change: set it here, plan, apply in the maintenance window.
      applyImmediately: false,
      // Owner of final_snapshot_identifier after creation: the creation itself (the name above
      // carries the creation time; an apply must not rename it to the time of that apply).
      lifecycle: props.deletionProtection ? { ignoreChanges: ["final_snapshot_identifier"] } : undefined,
    });

    if (!props.deletionProtection) {
      skipCheckov(this.instance, "CKV_AWS_293", "deletion protection is off by environment config (non-prod, torn down at will); prod must keep it (schema rule)");
    }
    if (!props.multiAz) {
      skipCheckov(this.instance, "CKV_AWS_157", "single-AZ by environment config (cost lever); the prod database must be Multi-AZ (schema rule)");
    }

    this.address = this.instance.address;
    this.masterSecretArn = this.instance.masterUserSecret.get(0).secretArn;
    this.resourceId = this.instance.resourceId;
  }
}

function validate(scope: Construct, props: RdsProps): void {
  const fail = (message: string): never => {
    throw new ConstructPropsError(scope, message);
  };
  props.naming.name("dbInstance", "postgres");
  if (!/^\d{2}$/.test(props.engineVersion)) {
    fail(`engineVersion must be a PostgreSQL major version such as "15" (AWS retires minors, which breaks apply); got "${props.engineVersion}"`);
  }
  if (!/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(props.instanceClass)) fail(`instanceClass must look like db.t4g.micro; got "${props.instanceClass}"`);
  if (props.allocatedStorageGiB < 20 || props.allocatedStorageGiB > 65536) fail(`allocatedStorageGiB must be 20-65536 for gp3; got ${props.allocatedStorageGiB}`);
  if (props.maxAllocatedStorageGiB < props.allocatedStorageGiB) {
    fail(`maxAllocatedStorageGiB must be at least allocatedStorageGiB (${props.allocatedStorageGiB}); got ${props.maxAllocatedStorageGiB}`);
  }
  if (props.backupRetentionDays < 1 || props.backupRetentionDays > 35) fail(`backupRetentionDays must be 1-35; got ${props.backupRetentionDays}`);
  const interval = props.monitoringIntervalSec ?? 60;
  if (!(MONITORING_INTERVALS as readonly number[]).includes(interval)) {
    fail(`monitoringIntervalSec must be one of ${MONITORING_INTERVALS.join(", ")}; got ${interval}`);
  }
  const user = props.masterUsername ?? "app_admin";
  if (!/^[a-z][a-z0-9_]{0,15}$/.test(user) || ["rdsadmin", "rdsrepladmin"].includes(user)) {
    fail(`masterUsername must be a PostgreSQL user name of up to 16 characters and not reserved; got "${user}"`);
  }
}
