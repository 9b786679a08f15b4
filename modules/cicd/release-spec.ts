import { Construct } from "constructs";
import { Fn } from "cdktf";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Naming } from "../../lib/naming";
import { skipCheckov } from "../../lib/checkov";

/** `/<project>/<env>/platform/release/<service>`: where an environment publishes how a release lands in it. */
export function releaseSpecParameterName(naming: Naming, serviceName: string): string {
  return `${naming.parameterPath}platform/release/${serviceName}`;
}

/** ARN of that parameter (deterministic: pipelines of other environments name it without a lookup). */
export function releaseSpecParameterArn(naming: Naming, serviceName: string, accountId: string, region: string, partition = "aws"): string {
  return `arn:${partition}:ssm:${region}:${accountId}:parameter${releaseSpecParameterName(naming, serviceName)}`;
}

export interface ReleaseSpecProps {
  readonly naming: Naming;
  readonly serviceName: string;
  readonly clusterName: string;
  readonly ecsServiceName: string;
  /** The revision Terraform registered: the config every release in this environment carries. */
  readonly configTaskDefinitionArn: string;
  /** Container whose image a release replaces. */
  readonly containerName: string;
  readonly containerPort: number;
  /** Blue/green services: the CodeDeploy application and deployment group a release goes through. */
  readonly codeDeploy?: { readonly applicationName: string; readonly deploymentGroupName: string };
  /** Where tasks run (a CodeDeploy release carries it in its AppSpec: CodeDeploy owns it on such a service). */
  readonly network: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[]; readonly assignPublicIp: boolean };
  readonly capacityProviderStrategy: readonly { readonly capacityProvider: string; readonly base?: number; readonly weight?: number }[];
  /**
   * Database clients: the migrations revision Terraform registered. A release runs it with the
   * release's image and deploys only when it exits 0.
   * @default - no migrations step
   */
  readonly migrationTaskDefinitionArn?: string;
}

/**
 * How a release lands in this environment, as a plain SSM parameter the release projects read
 * when they run: the config revision Terraform registered last (every apply updates it), the
 * ECS service, the deployment engine, the migrations revision of a database client and, for
 * CodeDeploy, the AppSpec's network and capacity.
 * A pipeline of another environment (test deploying QA) reads it instead of holding a copy
 * that would go stale at the next apply here. Names and IDs only, no secret.
 */
export class ReleaseSpec extends Construct {
  public readonly parameter: SsmParameter;

  constructor(scope: Construct, id: string, props: ReleaseSpecProps) {
    super(scope, id);
    const n = props.network;
    this.parameter = new SsmParameter(this, "parameter", {
      name: releaseSpecParameterName(props.naming, props.serviceName),
      description: `How a release of ${props.serviceName} lands in ${props.naming.environment} (read by the release projects)`,
      type: "String",
      value: Fn.jsonencode({
        cluster: props.clusterName,
        service: props.ecsServiceName,
        configTaskDefinition: props.configTaskDefinitionArn,
        container: props.containerName,
        containerPort: props.containerPort,
        deployWith: props.codeDeploy ? "codedeploy" : "ecs",
        codeDeployApplication: props.codeDeploy?.applicationName ?? "",
        codeDeployGroup: props.codeDeploy?.deploymentGroupName ?? "",
        migrationTaskDefinition: props.migrationTaskDefinitionArn ?? "",
        // Where a release starts tasks itself: the AppSpec of a CodeDeploy service (property
        // names in PascalCase, as CodeDeploy reads them) and the migrations task. Terraform
        // applies them to a rolling service itself.
        ...(props.codeDeploy || props.migrationTaskDefinitionArn
          ? { network: { AwsvpcConfiguration: { Subnets: n.subnetIds, SecurityGroups: n.securityGroupIds, AssignPublicIp: n.assignPublicIp ? "ENABLED" : "DISABLED" } } }
          : {}),
        ...(props.codeDeploy ? { capacityProviderStrategy: props.capacityProviderStrategy.map((c) => ({ CapacityProvider: c.capacityProvider, Base: c.base ?? 0, Weight: c.weight ?? 0 })) } : {}),
      }),
    });
    skipCheckov(this.parameter, "CKV2_AWS_34", "resource names and IDs only (no secret), read by release projects of this and the delivering environment");
  }
}
