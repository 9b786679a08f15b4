import { Construct } from "constructs";
import { Token } from "cdktf";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Naming } from "../../lib/naming";
import { policyDocument } from "../../lib/iam-policy";
import { GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST } from "./account";

/** A `sub` of one repository: a branch (pattern) or a GitHub environment, never `repo:<owner>/*`. */
const SUBJECT = /^repo:[\w.-]+\/[\w.-]+:(ref:refs\/heads\/[\w.*/-]+|environment:[\w.-]+)$/;

export interface GithubDeployRoleProps {
  /** Names for this environment (`<project>-<env>-github-deploy`). */
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /** The account's GitHub OIDC provider (the account stack creates it). */
  readonly oidcProviderArn: string;
  /**
   * The token subject the role trusts: `repo:<owner>/<repo>:ref:refs/heads/<branch>` (the
   * branch may be a pattern such as `release/*`) or `repo:<owner>/<repo>:environment:<name>`.
   */
  readonly subject: string;
  /** ECR repositories the workflow pushes images to. */
  readonly repositoryArns: readonly string[];
  /** ECS services a release updates. */
  readonly serviceArns: readonly string[];
  /** Task definition families a release registers new revisions of. */
  readonly taskDefinitionFamilies: readonly string[];
  /** Execution and task roles of those revisions (passed to ECS tasks only). */
  readonly taskRoleArns: readonly string[];
}

/**
 * The role a GitHub Actions workflow assumes through OIDC (no stored keys): trusted only by
 * tokens for the STS audience (`aud`) from one repository and one branch or environment
 * (`sub`). It may push images to the repositories it is given (none where the environment
 * promotes) and start a release of this environment's services (register a task definition
 * revision, point the service at it),
 * nothing else: no Terraform, no infrastructure change, no other environment.
 */
export class GithubDeployRole extends Construct {
  public readonly role: IamRole;

  constructor(scope: Construct, id: string, props: GithubDeployRoleProps) {
    super(scope, id);
    validate(this, props);
    const { naming, accountId, region } = props;
    const pattern = props.subject.includes("*");

    this.role = new IamRole(this, "role", {
      name: naming.name("iamRole", "github-deploy"),
      description: `GitHub Actions (${props.subject}) pushes images and starts releases of ${naming.stem}`,
      maxSessionDuration: 3600,
      assumeRolePolicy: policyDocument(this, "trust-policy", [
        {
          sid: "GithubActionsOidc",
          effect: "Allow",
          actions: ["sts:AssumeRoleWithWebIdentity"],
          principals: [{ type: "Federated", identifiers: [props.oidcProviderArn] }],
          condition: [
            { test: "StringEquals", variable: `${GITHUB_OIDC_HOST}:aud`, values: [GITHUB_OIDC_AUDIENCE] },
            // A branch pattern needs StringLike; it stays inside the one repository.
            { test: pattern ? "StringLike" : "StringEquals", variable: `${GITHUB_OIDC_HOST}:sub`, values: [props.subject] },
          ],
        },
      ]),
    });

    const ecs = (resource: string) => `arn:aws:ecs:${region}:${accountId}:${resource}`;
    const statements: DataAwsIamPolicyDocumentStatement[] = [
      // Registry login: the token is account-wide (allowlisted Resource "*").
      { sid: "EcrLogin", effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      ...(props.repositoryArns.length
        ? [
            {
              sid: "PushOwnImages",
              effect: "Allow",
              // Push layers and the manifest; read one back to promote an image by digest.
              actions: ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages"],
              resources: [...props.repositoryArns],
            },
          ]
        : []),
      ...(props.serviceArns.length
        ? [
            {
              // Revisions are registered by family and carry no resource ARN (allowlisted); running
              // one needs UpdateService on the services below.
              sid: "RegisterRevisions",
              effect: "Allow",
              actions: ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"],
              resources: ["*"],
            },
            {
              // The new revision keeps the tags of the one it replaces.
              sid: "TagNewRevisions",
              effect: "Allow",
              actions: ["ecs:TagResource"],
              resources: props.taskDefinitionFamilies.map((f) => ecs(`task-definition/${f}:*`)),
              condition: [{ test: "StringEquals", variable: "ecs:CreateAction", values: ["RegisterTaskDefinition"] }],
            },
            { sid: "ReleaseOwnServices", effect: "Allow", actions: ["ecs:UpdateService", "ecs:DescribeServices"], resources: [...props.serviceArns] },
          ]
        : []),
      ...(props.taskRoleArns.length
        ? [
            {
              sid: "PassOwnTaskRoles",
              effect: "Allow",
              actions: ["iam:PassRole"],
              resources: [...props.taskRoleArns],
              condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
            },
          ]
        : []),
    ];
    new IamRolePolicy(this, "policy", { name: "push-and-release", role: this.role.id, policy: policyDocument(this, "policy-document", statements) });
  }
}

function validate(scope: Construct, props: GithubDeployRoleProps): void {
  props.naming.name("iamRole", "github-deploy");
  scope.node.addValidation({
    validate: () => {
      if (Token.isUnresolved(props.subject) || SUBJECT.test(props.subject)) return [];
      const whole = /^repo:([^/:]+)\/\*/.exec(props.subject);
      return [
        whole
          ? `subject ${JSON.stringify(props.subject)} trusts every repository of ${JSON.stringify(whole[1])} (wildcarded to the whole organisation); name one repository`
          : `subject must be repo:<owner>/<repo>:ref:refs/heads/<branch> or repo:<owner>/<repo>:environment:<name>; got ${JSON.stringify(props.subject)}`,
      ];
    },
  });
}
