/**
 * The state backend bootstrap: one S3 bucket (one key per environment), one DynamoDB lock
 * table keyed on `LockID`, one KMS key. Created once per account by the
 * `<project>-state` stack, whose own state stays local (it cannot live in the bucket it creates).
 */
import { z } from "zod";
import { AWS_REGIONS } from "./schema";
import { checkedName } from "../lib/naming";

export const stateBackendSchema = z
  .object({
    project: z.string().regex(/^[a-z][a-z0-9-]{1,11}$/, "must be lowercase kebab-case, up to 12 characters"),
    accountId: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account ID"),
    region: z.enum(AWS_REGIONS),
    bucketName: z.string(),
    lockTableName: z.string(),
    kmsKeyAlias: z.string(),
    /** Days noncurrent state versions are kept (rollback window for a bad apply). */
    noncurrentVersionRetentionDays: z.number().int().min(1).max(3650).default(90),
    tags: z.record(z.string()),
  })
  .strict()
  .superRefine((b, ctx) => {
    for (const [field, kind] of [["bucketName", "s3Bucket"], ["lockTableName", "dynamodbTable"], ["kmsKeyAlias", "kmsAlias"]] as const) {
      try {
        checkedName(kind, b[field], "state-backend");
      } catch (e) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field], message: `${(e as Error).message}; got "${b[field]}"` });
      }
    }
  });

export type StateBackendConfig = z.output<typeof stateBackendSchema>;

const project = "fargate";
const accountId = "123456789012";
const region = "us-east-1";

export const stateBackendInput: z.input<typeof stateBackendSchema> = {
  project,
  accountId,
  region,
  // Account and region in the name keep it globally unique and say where it lives.
  bucketName: `${project}-tfstate-${accountId}-${region}`,
  lockTableName: `${project}-tfstate-lock`,
  kmsKeyAlias: `alias/${project}-tfstate`,
  noncurrentVersionRetentionDays: 90,
  tags: { Environment: "shared", Owner: "platform-team", CostCenter: "engineering", Compliance: "NIST-SOC2" },
};

/** The backend block values every environment config spreads into `stateBackend`. */
export const sharedStateBackend = {
  bucket: stateBackendInput.bucketName,
  lockTable: stateBackendInput.lockTableName,
  region,
  kmsKeyAlias: stateBackendInput.kmsKeyAlias,
  accountId,
} as const;
