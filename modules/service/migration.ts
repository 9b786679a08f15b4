import { Construct } from "constructs";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { Naming } from "../../lib/naming";
import { managedSecretKey, ServiceRoles } from "../iam";

/**
 * The database user a client service connects as: `svc_<service>` (hyphens become
 * underscores). The prefix keeps it clear of PostgreSQL's and RDS's reserved names (`pg_*`,
 * `rds*`) and of the master user.
 */
export function databaseUserName(serviceName: string): string {
  return `svc_${serviceName.replace(/-/g, "_")}`;
}

/** The variables a database client's container gets (docs/observability.md#database-access). */
export const DATABASE_CLIENT_ENVIRONMENT = ["DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_AUTH"] as const;
/** What only the migration task gets besides them: the master credentials, resolved at its start. */
export const MIGRATION_SECRETS = ["DB_MASTER_USERNAME", "DB_MASTER_PASSWORD"] as const;

/** A service that uses the database, and where it is. */
export interface DatabaseClientSpec {
  /** Endpoint hostname. */
  readonly address: string;
  readonly port: number;
  /** Database the service works in. */
  readonly databaseName: string;
  /** The instance's DbiResourceId (`resource_id`): part of the `rds-db:connect` ARN. */
  readonly dbiResourceId: string;
  /** ARN of the RDS-managed master secret: only the migration task reads it. */
  readonly masterSecretArn: string;
  /** What the migration task runs in the service's image (creates the user, grants, schema). */
  readonly migrationCommand: readonly string[];
}

export interface DatabaseMigrationProps {
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /** The service (kebab-case). */
  readonly serviceName: string;
  /** The service's image (`<repository>:<tag>`). */
  readonly image: string;
  /** ECR repository of the image (its execution role pulls from it). @default - an external image */
  readonly ecrRepositoryArn?: string;
  /** The service's log group: the migration writes stream prefix `migration`. */
  readonly logGroupName: string;
  readonly logGroupArn: string;
  /** KMS key of the master secret. */
  readonly secretsKmsKeyArn: string;
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Container user (never root). @default - the image's user */
  readonly user?: string;
  /** Non-secret environment of the service (the migration may read its settings). @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  readonly database: DatabaseClientSpec;
}

/**
 * The one-off migrations task of a database client: the service's image running its
 * migration command, connected as the master user (the only identity that can create the
 * service's user and grant it `rds_iam`). It is a task definition only: delivery (or an
 * operator, `aws ecs run-task`) runs it before traffic moves to a release. The master
 * password reaches this task alone, resolved at its start, so a rotation never stales it.
 */
export class DatabaseMigration extends Construct {
  public readonly taskDefinition: EcsTaskDefinition;
  /** Its own execution role: may read the master secret, which the service's role may not. */
  public readonly roles: ServiceRoles;
  /** The user the migration creates and the service connects as. */
  public readonly userName: string;

  constructor(scope: Construct, id: string, props: DatabaseMigrationProps) {
    super(scope, id);
    const { naming } = props;
    const db = props.database;
    this.userName = databaseUserName(props.serviceName);
    const secrets = [managedSecretKey("DB_MASTER_USERNAME", db.masterSecretArn, "username"), managedSecretKey("DB_MASTER_PASSWORD", db.masterSecretArn, "password")];
    this.roles = new ServiceRoles(this, "roles", {
      naming,
      accountId: props.accountId,
      region: props.region,
      serviceName: `${props.serviceName}-migration`,
      secrets,
      secretsKmsKeyArn: props.secretsKmsKeyArn,
      logGroupArn: props.logGroupArn,
      ecrRepositoryArn: props.ecrRepositoryArn,
    });
    this.node.addValidation({
      validate: () => (props.database.migrationCommand.length === 0 ? [`migrationCommand must name what the image runs to migrate; got []; e.g. ["python", "-m", "app.migrate"]`] : []),
    });
    const environment = Object.entries({ ...(props.environment ?? {}), ...databaseEnvironment(db, this.userName) })
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value }));
    const container: Record<string, unknown> = {
      name: "migration",
      image: props.image,
      essential: true,
      privileged: false,
      readonlyRootFilesystem: true,
      command: [...db.migrationCommand],
      environment,
      secrets: secrets.map((s) => ({ name: s.name, valueFrom: s.valueFrom })),
      logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": props.logGroupName, "awslogs-region": props.region, "awslogs-stream-prefix": "migration" } },
      mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
      portMappings: [],
      volumesFrom: [],
      systemControls: [],
      linuxParameters: { initProcessEnabled: true },
      ...(props.user !== undefined ? { user: props.user } : {}),
    };
    this.taskDefinition = new EcsTaskDefinition(this, "task-definition", {
      family: naming.name("ecsService", `${props.serviceName}-migration`),
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(props.cpu),
      memory: String(props.memoryMiB),
      executionRoleArn: this.roles.executionRole.arn,
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      volume: [{ name: "tmp" }],
      containerDefinitions: JSON.stringify([container]),
    });
  }
}

/** Where the database is and who the service is there; the same for the service and its migration. */
export function databaseEnvironment(db: Pick<DatabaseClientSpec, "address" | "port" | "databaseName">, userName: string): Record<(typeof DATABASE_CLIENT_ENVIRONMENT)[number], string> {
  return { DB_HOST: db.address, DB_PORT: String(db.port), DB_NAME: db.databaseName, DB_USER: userName, DB_AUTH: "iam" };
}
