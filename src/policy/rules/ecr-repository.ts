import { compliant, nonCompliant, PolicyRule } from "../types";
import { block, isSet, isTrue } from "../values";

/**
 * Images are built once and promoted by digest, so a tag must never move (immutable), every
 * pushed image is scanned, and layers are encrypted with a customer key.
 */
export const ecrRepository: PolicyRule = {
  id: "ECR-REPOSITORY",
  description: "ECR repositories have immutable tags, scan on push and KMS encryption with a customer-managed key.",
  severity: "error",
  controls: ["CKV_AWS_51", "CKV_AWS_163", "CKV_AWS_136", "ECR.1", "ECR.2"],
  resourceTypes: ["aws_ecr_repository"],
  check(repo) {
    const problems: string[] = [];
    if (repo.config.image_tag_mutability !== "IMMUTABLE") problems.push(`image_tag_mutability is ${JSON.stringify(repo.config.image_tag_mutability ?? "MUTABLE")}, not "IMMUTABLE" (a pushed tag could be moved to another image)`);
    if (!isTrue(block(repo.config.image_scanning_configuration)?.scan_on_push)) problems.push("image_scanning_configuration.scan_on_push is not true");
    const enc = block(repo.config.encryption_configuration);
    if (enc?.encryption_type !== "KMS") problems.push(`encryption_configuration.encryption_type is ${JSON.stringify(enc?.encryption_type ?? "AES256")}, not "KMS"`);
    else if (!isSet(enc.kms_key)) problems.push("encryption_configuration.kms_key is not set (the AWS-managed aws/ecr key would be used)");
    return problems.length ? nonCompliant(problems.join("; ")) : compliant();
  },
};
