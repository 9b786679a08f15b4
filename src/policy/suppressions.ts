import { IConstruct } from "constructs";
import { TerraformDataSource, TerraformResource } from "cdktf";
import { ConstructPropsError } from "../../lib/errors";

/** Node metadata type under which suppressions are stored. */
export const SUPPRESSION_METADATA_TYPE = "policy/suppression";

export interface SuppressionEntry {
  readonly ruleId: string;
  readonly reason: string;
}

/**
 * Exempts one resource from one policy rule. The reason is mandatory and shows in the
 * policy report; a suppression for a rule that never fires on the resource is reported as
 * stale.
 * @example suppressRule(service, "ECS-NO-PUBLIC-IP", "develop has no NAT: tasks pull images over the IGW")
 */
export function suppressRule(construct: IConstruct, ruleId: string, reason: string): void {
  if (!TerraformResource.isTerraformResource(construct) && !(construct instanceof TerraformDataSource)) {
    throw new ConstructPropsError(construct, `policy suppressions are per resource; suppress ${ruleId} on the resource itself, not on a ${construct.constructor.name}`);
  }
  if (typeof ruleId !== "string" || !/^[A-Z0-9]+(-[A-Z0-9]+)+$/.test(ruleId)) {
    throw new ConstructPropsError(construct, `policy suppression needs a rule ID like "S3-ENCRYPTION"; got ${JSON.stringify(ruleId)}`);
  }
  if (typeof reason !== "string" || !reason.trim()) {
    throw new ConstructPropsError(construct, `policy suppression of ${ruleId} needs a written reason; got ${JSON.stringify(reason)}`);
  }
  const entry: SuppressionEntry = { ruleId, reason: reason.trim() };
  construct.node.addMetadata(SUPPRESSION_METADATA_TYPE, entry);
}

/** The suppressions recorded on one construct. */
export function suppressionsOn(construct: IConstruct): SuppressionEntry[] {
  return construct.node.metadata.filter((m) => m.type === SUPPRESSION_METADATA_TYPE).map((m) => m.data as SuppressionEntry);
}
