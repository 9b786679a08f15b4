import { Construct } from "constructs";
import { CodestarconnectionsConnection } from "@cdktf/provider-aws/lib/codestarconnections-connection";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepositoryPolicy } from "@cdktf/provider-aws/lib/ecr-repository-policy";
import { EcrReplicationConfiguration } from "@cdktf/provider-aws/lib/ecr-replication-configuration";
import { EcrRegistryPolicy } from "@cdktf/provider-aws/lib/ecr-registry-policy";
import { Naming, checkedName } from "../../lib/naming";
import { ecrRepositoryNameProblem } from "../../lib/aws-limits";
import { imageRepositoryName } from "../../lib/registry";

export interface ImageRegistryProps {
  /** Names of the account (`<project>-<account>`). */
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /** Config names of the images the account's environments deliver (`image.ecrRepository`). */
  readonly repositories: readonly string[];
  /** KMS key of every repository (customer-managed). */
  readonly kmsKeyArn: string;
  /**
   * Accounts that promote this account's releases: every image pushed here replicates there
   * (same digest), and they may read the release tags here.
   * @default []
   */
  readonly replicateTo?: readonly { readonly accountId: string; readonly region: string }[];
  /**
   * Accounts whose registries replicate into this one (the sources of its promotions).
   * @default []
   */
  readonly acceptReplicationFrom?: readonly string[];
  /**
   * Create the account's one Bitbucket connection.
   * @default false
   */
  readonly sourceConnection?: boolean;
  /**
   * Delete repositories that still hold images on destroy (the emulator only).
   * @default false
   */
  readonly forceDelete?: boolean;
  /** @default 7 */
  readonly untaggedImageExpiryDays?: number;
  /** @default 100 */
  readonly maxImageCount?: number;
}

/**
 * The account's delivery plumbing (account stack): one ECR repository per delivered image,
 * shared by every environment of the account, so a release builds once and every later
 * environment runs the same digest; tags are immutable (the commit SHA, `release-x.y.z`).
 * Cross-account promotion is ECR replication (AWS copies each pushed image, digest unchanged,
 * into the promoting account's repository of the same name) plus read access to the release
 * tags. And the account's one CodeConnections connection to Bitbucket.
 */
export class ImageRegistry extends Construct {
  /** Repositories by config name. */
  public readonly repositories: Readonly<Record<string, EcrRepository>>;
  public readonly connection?: CodestarconnectionsConnection;

  constructor(scope: Construct, id: string, props: ImageRegistryProps) {
    super(scope, id);
    const { naming } = props;
    const replicateTo = props.replicateTo ?? [];
    const repositories: Record<string, EcrRepository> = {};
    for (const image of [...new Set(props.repositories)].sort()) {
      const name = imageRepositoryName(naming.project, image);
      const problem = ecrRepositoryNameProblem(name);
      if (problem) {
        this.node.addValidation({ validate: () => [`repository of image ${JSON.stringify(image)} ${problem}`] });
        continue;
      }
      // The construct ID is the repository name: stable whatever else the account delivers.
      const repoScope = new Construct(this, name.replace(/\//g, "-"));
      const repository = new EcrRepository(repoScope, "repository", {
        name,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: [{ encryptionType: "KMS", kmsKey: props.kmsKeyArn }],
        forceDelete: props.forceDelete ?? false,
      });
      new EcrLifecyclePolicy(repoScope, "lifecycle", {
        repository: repository.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: "Expire untagged images",
              selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: props.untaggedImageExpiryDays ?? 7 },
              action: { type: "expire" },
            },
            {
              // Release tags are what prod may still promote or roll back to: never expire them.
              rulePriority: 2,
              description: "Keep the most recent commit builds",
              selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: props.maxImageCount ?? 100 },
              action: { type: "expire" },
            },
          ],
        }),
      });
      if (replicateTo.length > 0) {
        // Promoting accounts read which digest a release tag names (the Resolve stage); pulls go to their own replica.
        new EcrRepositoryPolicy(repoScope, "promotion-read", {
          repository: repository.name,
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "PromotingAccountsReadReleaseTags",
                Effect: "Allow",
                Principal: { AWS: replicateTo.map((d) => `arn:aws:iam::${d.accountId}:root`) },
                Action: ["ecr:DescribeImages"],
              },
            ],
          }),
        });
      }
      repositories[image] = repository;
    }
    this.repositories = repositories;

    if (replicateTo.length > 0) {
      new EcrReplicationConfiguration(this, "replication", {
        replicationConfiguration: {
          rule: [
            {
              destination: replicateTo.map((d) => ({ registryId: d.accountId, region: d.region })),
              repositoryFilter: [{ filter: `${naming.project}/`, filterType: "PREFIX_MATCH" }],
            },
          ],
        },
      });
    }
    const sources = props.acceptReplicationFrom ?? [];
    if (sources.length > 0) {
      new EcrRegistryPolicy(this, "accept-replication", {
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ReplicateReleasesFromSourceAccounts",
              Effect: "Allow",
              Principal: { AWS: sources.map((a) => `arn:aws:iam::${a}:root`) },
              // The repositories exist here already (this stack creates them with their key).
              Action: ["ecr:ReplicateImage"],
              Resource: [`arn:aws:ecr:${props.region}:${props.accountId}:repository/${naming.project}/*`],
            },
          ],
        }),
      });
    }

    if (props.sourceConnection) {
      const name = checkedName("generic", `${naming.project}-bitbucket`);
      if (name.length > 32) {
        this.node.addValidation({ validate: () => [`connection name "${name}" is ${name.length} characters; CodeConnections allows 32; shorten the project name`] });
      } else {
        this.connection = new CodestarconnectionsConnection(this, "connection", { name, providerType: "Bitbucket" });
      }
    }
  }
}
