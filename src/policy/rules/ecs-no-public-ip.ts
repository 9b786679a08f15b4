import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";
import { block, isTrue } from "../values";

export const ecsNoPublicIp: PolicyRule = {
  id: "ECS-NO-PUBLIC-IP",
  description: "ECS services run without public IPs when the VPC has a NAT gateway; only the no-NAT cost layout (natStrategy none) gives tasks public IPs.",
  severity: "error",
  controls: ["CKV_AWS_333", "ECS.2"],
  resourceTypes: ["aws_ecs_service"],
  check(service, ctx) {
    if (!isTrue(block(service.config.network_configuration)?.assign_public_ip)) return compliant();
    if (!ctx.ofType("aws_nat_gateway").length) {
      return notApplicable("assign_public_ip is true and the stack has no NAT gateway (natStrategy none): tasks in public subnets need a public IP to reach ECR; the SG chain still admits only the ALB");
    }
    return nonCompliant("network_configuration.assign_public_ip is true although the stack has a NAT gateway; run tasks in private subnets with assign_public_ip false");
  },
};
