import { Testing } from "cdktf";
import { Construct } from "constructs";
import { Rds, RdsProps } from "../../modules/rds";
import { Naming } from "../../lib/naming";
import { resourcesOf } from "../helpers";
import { checkovSkips } from "../../lib/checkov";

const DATA_KEY = "arn:aws:kms:us-east-1:123456789012:key/data";
const LOGS_KEY = "arn:aws:kms:us-east-1:123456789012:key/logs";
const baseProps: RdsProps = {
  naming: new Naming("fargate", "prod"),
  accountId: "123456789012",
  engineVersion: "15",
  instanceClass: "db.m7g.large",
  allocatedStorageGiB: 20,
  maxAllocatedStorageGiB: 100,
  multiAz: true,
  backupRetentionDays: 14,
  deletionProtection: true,
  dbSubnetGroupName: "fargate-prod-database",
  securityGroupId: "sg-rds",
  kmsKeyArn: DATA_KEY,
  logRetentionDays: 30,
  logsKmsKeyArn: LOGS_KEY,
};

function synthText(overrides: Partial<RdsProps> = {}): string {
  return Testing.synthScope((scope: Construct) => {
    new Rds(scope, "rds", { ...baseProps, ...overrides });
  });
}
const instanceOf = (overrides: Partial<RdsProps> = {}) => resourcesOf(JSON.parse(synthText(overrides)), "aws_db_instance")[0][1];

describe("Rds", () => {
  test("creates PostgreSQL pinned to the major version with an RDS-managed master password", () => {
    expect(synthText()).toHaveResourceWithProperties(
      { tfResourceType: "aws_db_instance" },
      {
        identifier: "fargate-prod-postgres",
        engine: "postgres",
        engine_version: "15",
        auto_minor_version_upgrade: true,
        manage_master_user_password: true,
        master_user_secret_kms_key_id: DATA_KEY,
        username: "app_admin",
        db_name: "app",
      },
    );
    const instance = instanceOf();
    expect(instance.password).toBeUndefined();
    expect(Object.keys(instance).filter((k) => /^password/.test(k))).toEqual([]);
  });

  test("stores data encrypted on gp3 with storage autoscaling, private, in the database subnets", () => {
    expect(synthText()).toHaveResourceWithProperties(
      { tfResourceType: "aws_db_instance" },
      {
        storage_type: "gp3",
        allocated_storage: 20,
        max_allocated_storage: 100,
        storage_encrypted: true,
        kms_key_id: DATA_KEY,
        publicly_accessible: false,
        db_subnet_group_name: "fargate-prod-database",
        vpc_security_group_ids: ["sg-rds"],
        iam_database_authentication_enabled: true,
      },
    );
  });

  test("leaves the CA to AWS's default: provider 5.x would apply a pinned CA by a second ModifyDBInstance after the create", () => {
    expect(instanceOf()).not.toHaveProperty("ca_cert_identifier");
  });

  test("forces SSL with a parameter group of the major's family", () => {
    expect(synthText()).toHaveResourceWithProperties(
      { tfResourceType: "aws_db_parameter_group" },
      { name: "fargate-prod-postgres15", family: "postgres15", parameter: [expect.objectContaining({ name: "rds.force_ssl", value: "1" })] },
    );
    expect(instanceOf().parameter_group_name).toMatch(/aws_db_parameter_group\..*\.name/);
  });

  test("keeps backups, Multi-AZ, deletion protection and a final snapshot in prod", () => {
    expect(instanceOf()).toEqual(
      expect.objectContaining({
        multi_az: true,
        backup_retention_period: 14,
        deletion_protection: true,
        skip_final_snapshot: false,
        // Named at creation, so a rebuilt database's final snapshot never collides with the first one's.
        final_snapshot_identifier: 'fargate-prod-postgres-final-${formatdate("YYYYMMDDhhmmss", timestamp())}',
        copy_tags_to_snapshot: true,
        // Owner of the name after creation: the creation (an apply must not rename it to its own time).
        lifecycle: { ignore_changes: ["final_snapshot_identifier"] },
      }),
    );
  });

  test("creates each log-export group before the instance, with the environment's retention and the logs key", () => {
    const json = JSON.parse(synthText());
    const groups = resourcesOf(json, "aws_cloudwatch_log_group");
    expect(groups.map(([, g]) => g).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: "/aws/rds/instance/fargate-prod-postgres/postgresql", retention_in_days: 30, kms_key_id: LOGS_KEY },
      { name: "/aws/rds/instance/fargate-prod-postgres/upgrade", retention_in_days: 30, kms_key_id: LOGS_KEY },
    ]);
    const instance = resourcesOf(json, "aws_db_instance")[0][1];
    expect(instance.enabled_cloudwatch_logs_exports).toEqual(["postgresql", "upgrade"]);
    expect([...instance.depends_on].sort()).toEqual(groups.map(([id]) => `aws_cloudwatch_log_group.${id}`).sort());
  });

  test("skips the final snapshot only without deletion protection", () => {
    const instance = instanceOf({ deletionProtection: false, multiAz: false });
    expect([instance.deletion_protection, instance.skip_final_snapshot, instance.final_snapshot_identifier]).toEqual([false, true, undefined]);
  });

  test("turns on Performance Insights with the data key, log exports and Enhanced Monitoring", () => {
    expect(instanceOf()).toEqual(
      expect.objectContaining({
        performance_insights_enabled: true,
        performance_insights_kms_key_id: DATA_KEY,
        performance_insights_retention_period: 7,
        enabled_cloudwatch_logs_exports: ["postgresql", "upgrade"],
        monitoring_interval: 60,
        monitoring_role_arn: expect.stringMatching(/aws_iam_role\..*\.arn/),
      }),
    );
    expect(synthText()).toHaveResourceWithProperties({ tfResourceType: "aws_iam_role" }, { name: "fargate-prod-rds-monitoring" });
  });

  test("creates no monitoring role when Enhanced Monitoring is off and no PI key when Performance Insights is off", () => {
    const json = JSON.parse(synthText({ monitoringIntervalSec: 0, performanceInsights: false }));
    expect(resourcesOf(json, "aws_iam_role")).toEqual([]);
    const instance = resourcesOf(json, "aws_db_instance")[0][1];
    expect([instance.performance_insights_enabled, instance.performance_insights_kms_key_id]).toEqual([false, undefined]);
  });

  test("exposes the address and the managed master secret ARN", () => {
    Testing.synthScope((scope: Construct) => {
      const rds = new Rds(scope, "rds", baseProps);
      expect(rds.port).toBe(5432);
      expect(rds.databaseName).toBe("app");
      expect(scope.node.tryFindChild("rds")).toBe(rds);
      expect(rds.masterSecretArn).toMatch(/TfToken/);
    });
  });

  test("declares checkov skips only for what the environment config turned off", () => {
    const skips = (overrides: Partial<RdsProps>) => {
      let rds: Rds | undefined;
      Testing.synthScope((scope: Construct) => {
        rds = new Rds(scope, "rds", { ...baseProps, ...overrides });
      });
      return [...checkovSkips(rds!.instance).keys()];
    };
    expect(skips({})).toEqual([]);
    expect(skips({ deletionProtection: false, multiAz: false })).toEqual(["CKV_AWS_293", "CKV_AWS_157"]);
  });

  test("throws for a pinned minor version", () => {
    expect(() => synthText({ engineVersion: "15.4" })).toThrow(/rds: engineVersion must be a PostgreSQL major version such as "15" \(AWS retires minors, which breaks apply\); got "15.4"/);
  });

  test("throws for storage, backup, class, monitoring and user problems", () => {
    expect(() => synthText({ maxAllocatedStorageGiB: 10 })).toThrow(/maxAllocatedStorageGiB must be at least allocatedStorageGiB \(20\); got 10/);
    expect(() => synthText({ allocatedStorageGiB: 5 })).toThrow(/allocatedStorageGiB must be 20-65536 for gp3; got 5/);
    expect(() => synthText({ backupRetentionDays: 0 })).toThrow(/backupRetentionDays must be 1-35; got 0/);
    expect(() => synthText({ instanceClass: "t3.micro" })).toThrow(/instanceClass must look like db.t4g.micro; got "t3.micro"/);
    expect(() => synthText({ monitoringIntervalSec: 7 })).toThrow(/monitoringIntervalSec must be one of 0, 1, 5, 10, 15, 30, 60; got 7/);
    expect(() => synthText({ masterUsername: "rdsadmin" })).toThrow(/masterUsername must be a PostgreSQL user name .* got "rdsadmin"/);
  });
});
