/**
 * Physical names for every AWS resource the platform creates.
 *
 * Every name is `<project>-<env>-<purpose>` and is checked against the AWS limit of the
 * resource kind it names. A name that does not fit is an error at synth time that names
 * the resource and the limit; nothing is ever silently truncated (a cut name can collide
 * with another environment's resource).
 */

/** AWS name constraints, per resource kind. */
export const NAME_RULES = {
  alb: { max: 32, pattern: /^[a-zA-Z0-9-]+$/, what: "letters, digits and hyphens" },
  targetGroup: { max: 32, pattern: /^[a-zA-Z0-9-]+$/, what: "letters, digits and hyphens" },
  namePrefix: { max: 6, pattern: /^[a-zA-Z0-9-]+$/, what: "letters, digits and hyphens" },
  iamRole: { max: 64, pattern: /^[\w+=,.@-]+$/, what: "letters, digits and +=,.@_-" },
  iamPolicy: { max: 128, pattern: /^[\w+=,.@-]+$/, what: "letters, digits and +=,.@_-" },
  s3Bucket: { max: 63, min: 3, pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, what: "lowercase letters, digits, dots and hyphens" },
  logGroup: { max: 512, pattern: /^[\w\-/.#]+$/, what: "letters, digits and _-/.#" },
  kmsAlias: { max: 256, pattern: /^alias\/[\w/-]+$/, what: "alias/ followed by letters, digits and /_-" },
  securityGroup: { max: 255, pattern: /^[\w .:/()#,@[\]+=&;{}!$*-]+$/, what: "printable ASCII" },
  ecsCluster: { max: 255, pattern: /^[a-zA-Z0-9_-]+$/, what: "letters, digits, hyphens and underscores" },
  ecsService: { max: 255, pattern: /^[a-zA-Z0-9_-]+$/, what: "letters, digits, hyphens and underscores" },
  dbInstance: { max: 63, pattern: /^[a-z][a-z0-9-]*$/, what: "lowercase letters, digits and hyphens, starting with a letter" },
  dbSubnetGroup: { max: 255, pattern: /^[a-z0-9 ._-]+$/, what: "lowercase letters, digits, spaces and ._-" },
  dynamodbTable: { max: 255, min: 3, pattern: /^[a-zA-Z0-9_.-]+$/, what: "letters, digits and _.-" },
  generic: { max: 255, pattern: /^[\w\-/.]+$/, what: "letters, digits and _-/." },
} as const;

export type NameKind = keyof typeof NAME_RULES;

/** Thrown when a physical name breaks an AWS limit. */
export class NameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NameError";
  }
}

/**
 * Checks a physical name against the rules of its kind.
 * @returns a message describing the problem, or undefined when the name is valid
 */
export function nameProblem(kind: NameKind, name: string): string | undefined {
  const rule = NAME_RULES[kind];
  const min = "min" in rule ? rule.min : 1;
  if (name.length > rule.max) {
    return `${kind} name "${name}" is ${name.length} characters; the AWS limit is ${rule.max}`;
  }
  if (name.length < min) {
    return `${kind} name "${name}" is ${name.length} characters; AWS needs at least ${min}`;
  }
  if (!rule.pattern.test(name)) {
    return `${kind} name "${name}" may only contain ${rule.what}`;
  }
  return undefined;
}

/** Throws a NameError when the name breaks the rules of its kind; returns it otherwise. */
export function checkedName(kind: NameKind, name: string, context = "naming"): string {
  const problem = nameProblem(kind, name);
  if (problem) {
    throw new NameError(`${context}: ${problem}; shorten the project, environment or purpose`);
  }
  return name;
}

/** Builds `<project>-<env>-<purpose>` names for one environment. */
export class Naming {
  /** `<project>-<env>`, the stem of every name in the environment. */
  public readonly stem: string;

  constructor(
    public readonly project: string,
    public readonly environment: string,
  ) {
    this.stem = `${project}-${environment}`;
  }

  /** A name of the given kind: `<project>-<env>-<purpose>` (or the stem when purpose is empty). */
  public name(kind: NameKind, purpose = ""): string {
    const name = purpose ? `${this.stem}-${purpose}` : this.stem;
    return checkedName(kind, kind === "s3Bucket" || kind === "dbInstance" ? name.toLowerCase() : name);
  }

  /** A CloudWatch log group path: `/<project>/<env>/<purpose>`. */
  public logGroup(purpose: string): string {
    return checkedName("logGroup", `/${this.project}/${this.environment}/${purpose}`);
  }

  /** A KMS alias: `alias/<project>-<env>-<purpose>`. */
  public kmsAlias(purpose: string): string {
    return checkedName("kmsAlias", `alias/${this.stem}-${purpose}`);
  }

  /** An SSM parameter path prefix owned by this environment: `/<project>/<env>/`. */
  public get parameterPath(): string {
    return `/${this.project}/${this.environment}/`;
  }
}

/**
 * The purpose part of a target group name: service, colour and port, because AWS fixes a
 * target group's port at creation. A port change creates a group with a new name next to
 * the old one (create_before_destroy), so the replacement never collides with itself.
 */
export function targetGroupPurpose(service: string, colour: "rolling" | "blue" | "green", port: number): string {
  return colour === "rolling" ? `${service}-${port}` : `${service}-${colour[0]}${port}`;
}
