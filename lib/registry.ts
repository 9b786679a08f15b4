/**
 * The account's image registry (modules/cicd/registry.ts, in the account stack): one ECR
 * repository per delivered image, shared by every environment of the account, so the image
 * a release tested in test is, by digest, the image QA runs. Environment stacks compute the
 * names below instead of looking the repositories up (plans stay offline).
 */

/** `<project>/<image>`: the repository of config name `image` (services' `image.ecrRepository`). */
export function imageRepositoryName(project: string, image: string): string {
  return `${project}/${image}`;
}

export function imageRepositoryArn(accountId: string, region: string, name: string, partition = "aws"): string {
  return `arn:${partition}:ecr:${region}:${accountId}:repository/${name}`;
}

export function imageRepositoryUrl(accountId: string, region: string, name: string): string {
  return `${accountId}.dkr.ecr.${region}.amazonaws.com/${name}`;
}

/** The immutable tag a release gets once its last environment before promotion ran it. */
export function releaseTag(version: string): string {
  return `release-${version}`;
}
