/**
 * Optional Amazon Managed Grafana for one environment: a workspace that reads CloudWatch
 * through its own least-privilege role, reached at its AWS-provided URL only, and the
 * dashboard the troubleshooting notes ended up with (HealthyHostCount / UnHealthyHostCount
 * per target group), generated as Grafana JSON.
 *
 * What this cannot do, on purpose and by AWS's product boundaries:
 * - no custom domain: Managed Grafana does not accept custom TLS certificates (the notes'
 *   failure 4, ERR_CERT_COMMON_NAME_INVALID behind HSTS); the config refuses one;
 * - no dashboard resource: hashicorp/aws has no Grafana dashboard resource (that is the
 *   grafana/grafana provider, which needs a workspace API key at plan time and so breaks the
 *   offline plan). The dashboard JSON is a stack output; docs/observability.md#grafana says
 *   how it is imported.
 */
import { Construct } from "constructs";
import { GrafanaWorkspace } from "@cdktf/provider-aws/lib/grafana-workspace";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Naming } from "../../lib/naming";
import { serviceRole } from "../../lib/iam-policy";
import { ALB, CONTAINER_INSIGHTS } from "./dashboards";
import { ObservedService } from "./service";

export type GrafanaAuthentication = "AWS_SSO" | "SAML";

export interface ManagedGrafanaProps {
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /**
   * How people sign in: IAM Identity Center (must be enabled in the account) and/or SAML
   * (configured in the workspace after creation).
   */
  readonly authenticationProviders: readonly GrafanaAuthentication[];
  /**
   * Grafana version of the workspace.
   * @default "10.4"
   */
  readonly grafanaVersion?: string;
}

/** The CloudWatch reads Grafana's CloudWatch data source makes for metric panels. */
export const GRAFANA_CLOUDWATCH_ACTIONS = ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "cloudwatch:DescribeAlarmsForMetric"] as const;

export class ManagedGrafana extends Construct {
  public readonly workspace: GrafanaWorkspace;
  /** What the workspace assumes to read CloudWatch (CUSTOMER_MANAGED permissions). */
  public readonly role: IamRole;
  /** The AWS-provided workspace URL (the only one Managed Grafana serves). */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ManagedGrafanaProps) {
    super(scope, id);
    const { naming } = props;
    this.node.addValidation({
      validate: () =>
        props.authenticationProviders.length === 0 ? [`authenticationProviders must name at least one of AWS_SSO, SAML; got none; people could not sign in`] : [],
    });
    this.role = serviceRole(new Construct(this, "workspace-role"), {
      name: naming.name("iamRole", "grafana"),
      description: `Managed Grafana of ${naming.stem}: read CloudWatch metrics`,
      service: "grafana.amazonaws.com",
      accountId: props.accountId,
      policyName: "read-cloudwatch-metrics",
      // These reads have no resource-level permissions (service authorization reference:
      // "Resource types: *"); they are read-only and reach metrics of this account only.
      statements: [{ sid: "ReadCloudWatchMetrics", effect: "Allow", actions: [...GRAFANA_CLOUDWATCH_ACTIONS], resources: ["*"] }],
    });
    this.workspace = new GrafanaWorkspace(this, "workspace", {
      name: naming.name("generic", "grafana"),
      description: `${naming.stem}: ALB target health per service (CloudWatch)`,
      accountAccessType: "CURRENT_ACCOUNT",
      authenticationProviders: [...props.authenticationProviders],
      permissionType: "CUSTOMER_MANAGED",
      roleArn: this.role.arn,
      dataSources: ["CLOUDWATCH"],
      grafanaVersion: props.grafanaVersion ?? "10.4",
    });
    this.url = `https://${this.workspace.endpoint}`;
  }
}

/** The Grafana dashboard (import JSON) on target health per service, from the services the stack runs. */
export function grafanaDashboard(input: { readonly title: string; readonly region: string; readonly albArnSuffix?: string; readonly services: readonly ObservedService[] }): object {
  const datasource = { type: "cloudwatch", uid: "${DS_CLOUDWATCH}" };
  const query = (refId: string, namespace: string, metricName: string, dimensions: Record<string, string>, statistic: string, label: string) => ({
    refId,
    datasource,
    queryMode: "Metrics",
    region: input.region,
    namespace,
    metricName,
    dimensions,
    statistics: [statistic],
    matchExact: true,
    period: "60",
    label,
  });
  const panels: object[] = [];
  let y = 0;
  for (const svc of input.services) {
    const tgs = input.albArnSuffix ? (svc.targetGroupArnSuffixes ?? []) : [];
    tgs.forEach((tg, i) => {
      const colour = tgs.length === 2 ? (i === 0 ? " (blue)" : " (green)") : "";
      const dims = { LoadBalancer: input.albArnSuffix!, TargetGroup: tg };
      panels.push({
        id: panels.length + 1,
        type: "timeseries",
        title: `${svc.name}${colour}: healthy / unhealthy targets`,
        datasource,
        gridPos: { x: 0, y, w: 16, h: 8 },
        fieldConfig: { defaults: { min: 0, decimals: 0 }, overrides: [] },
        targets: [query("A", ALB, "HealthyHostCount", dims, "Minimum", "healthy"), query("B", ALB, "UnHealthyHostCount", dims, "Maximum", "unhealthy")],
      });
      y += 8;
    });
    // The notes' failure 5: AWS/ECS has no task count; Container Insights (on in every cluster) does.
    panels.push({
      id: panels.length + 1,
      type: "timeseries",
      title: `${svc.name}: running / desired tasks (Container Insights)`,
      datasource,
      gridPos: { x: 0, y, w: 16, h: 8 },
      fieldConfig: { defaults: { min: 0, decimals: 0 }, overrides: [] },
      targets: svc.serviceNames.flatMap((name, i) => [
        query(`R${i}`, CONTAINER_INSIGHTS, "RunningTaskCount", { ClusterName: svc.clusterName, ServiceName: name }, "Average", `running ${name}`),
        query(`D${i}`, CONTAINER_INSIGHTS, "DesiredTaskCount", { ClusterName: svc.clusterName, ServiceName: name }, "Average", `desired ${name}`),
      ]),
    });
    y += 8;
  }
  return {
    __inputs: [{ name: "DS_CLOUDWATCH", label: "CloudWatch", type: "datasource", pluginId: "cloudwatch", pluginName: "CloudWatch" }],
    title: input.title,
    uid: input.title.replace(/[^a-zA-Z0-9-]/g, "-").slice(0, 40),
    tags: ["ecs", "alb", "generated"],
    timezone: "utc",
    schemaVersion: 39,
    time: { from: "now-6h", to: "now" },
    refresh: "1m",
    panels,
  };
}
