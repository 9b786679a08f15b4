/**
 * Preflight for Terraform's DynamoDB state lock table.
 *
 * Terraform's S3 backend writes lock items keyed on an attribute named exactly `LockID`
 * (type S). A table keyed on anything else (the source documents' `id`) does not fail
 * fast: every PutItem is rejected, Terraform reads that as "someone else holds the lock"
 * and retries until -lock-timeout runs out ("plan hung for 5 minutes, then failed:
 * Error acquiring state lock"). This check reads the table once (DescribeTable) and says
 * exactly what is wrong before any Terraform command runs.
 */
import { DescribeTableCommand, DynamoDBClient, TableDescription } from "@aws-sdk/client-dynamodb";

export const LOCK_HASH_KEY = "LockID";

/** One line per problem with the table's key schema; empty when Terraform can lock with it. */
export function lockTableProblems(table: Pick<TableDescription, "TableName" | "KeySchema" | "AttributeDefinitions" | "TableStatus">): string[] {
  const name = table.TableName ?? "(unnamed)";
  const problems: string[] = [];
  const keys = table.KeySchema ?? [];
  const hash = keys.find((k) => k.KeyType === "HASH");
  const range = keys.find((k) => k.KeyType === "RANGE");
  if (!hash) {
    problems.push(`table ${name} has no hash (partition) key`);
  } else if (hash.AttributeName !== LOCK_HASH_KEY) {
    const near = hash.AttributeName?.toLowerCase() === LOCK_HASH_KEY.toLowerCase() ? " (the name is case-sensitive)" : "";
    problems.push(`table ${name} has hash key "${hash.AttributeName}"${near}; Terraform's S3 backend needs exactly "${LOCK_HASH_KEY}"`);
  } else {
    const type = table.AttributeDefinitions?.find((a) => a.AttributeName === LOCK_HASH_KEY)?.AttributeType;
    if (type !== "S") problems.push(`table ${name} defines ${LOCK_HASH_KEY} as type ${type ?? "(undefined)"}; it must be S (string)`);
  }
  if (range) problems.push(`table ${name} has a sort key "${range.AttributeName}"; Terraform's lock items carry only ${LOCK_HASH_KEY}, so the table must have no sort key`);
  if (table.TableStatus && table.TableStatus !== "ACTIVE" && table.TableStatus !== "UPDATING") {
    problems.push(`table ${name} is ${table.TableStatus}, not ACTIVE`);
  }
  return problems;
}

export class LockTableError extends Error {
  constructor(
    public readonly table: string,
    public readonly problems: readonly string[],
  ) {
    super(
      `State lock table preflight failed for "${table}":\n  ${problems.join("\n  ")}\n` +
        `Terraform would not fail fast on this: it retries the lock until -lock-timeout and then reports ` +
        `"Error acquiring the state lock". Fix: recreate the table with ` +
        `--attribute-definitions AttributeName=${LOCK_HASH_KEY},AttributeType=S --key-schema AttributeName=${LOCK_HASH_KEY},KeyType=HASH ` +
        `(the ${"<project>"}-state bootstrap stack does exactly this).`,
    );
    this.name = "LockTableError";
  }
}

/** DescribeTable + `lockTableProblems`; throws LockTableError (also when the table is missing). */
export async function assertLockTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let table: TableDescription | undefined;
  try {
    table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (e) {
    const err = e as Error;
    if (err.name === "ResourceNotFoundException") throw new LockTableError(tableName, [`table ${tableName} does not exist (deploy the state bootstrap stack first)`]);
    throw e;
  }
  const problems = lockTableProblems(table ?? { TableName: tableName });
  if (problems.length) throw new LockTableError(tableName, problems);
}
