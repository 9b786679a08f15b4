/**
 * How releases move between environments (docs/releases.md#release-flow), read from each
 * environment's `cicd`: which pipeline builds, which environments it deploys in order, and
 * which environment promotes the digest another one released. Validated across environments
 * here, because no single environment file can see the chain.
 */
import type { EnvironmentConfig } from "./schema";
import type { AccountConfig } from "./accounts";
import { show } from "./schema";

type DeliveryView = Pick<EnvironmentConfig, "name" | "account" | "accountId" | "region" | "cicd" | "features" | "services">;

/** What one environment's pipeline does; absent for environments delivered by another's. */
export interface PipelinePlan {
  /** `build`: docker build once, then deploy `targets` in order; `promote`: deploy the digest `promotesFrom` released. */
  readonly kind: "build" | "promote";
  /** Environments the pipeline deploys, in order; the first is the pipeline's own. */
  readonly targets: readonly string[];
  /** After the last target, tag the digest `release-x.y.z` (some environment promotes from one of the targets). */
  readonly tagsRelease: boolean;
  /** Promotions: where the released digest is read (the environment's account registry). */
  readonly promotesFrom?: { readonly environment: string; readonly accountId: string; readonly region: string };
}

/** The pipeline of `env`, when it has one (cicd `build` or `promote`). */
export function pipelinePlan(env: DeliveryView, all: readonly DeliveryView[]): PipelinePlan | undefined {
  const c = env.cicd;
  if (c.releases === "delivered") return undefined;
  if (c.releases === "build") {
    const targets: string[] = [env.name, ...c.then];
    const tagsRelease = all.some((e) => e.cicd.releases === "promote" && targets.includes(e.cicd.from));
    return { kind: "build", targets, tagsRelease };
  }
  const from = all.find((e) => e.name === c.from);
  return { kind: "promote", targets: [env.name], tagsRelease: false, promotesFrom: from ? { environment: from.name, accountId: from.accountId, region: from.region } : undefined };
}

/** Whether the environment's pipelines exist (cicd on, some service with a source). */
function delivers(env: DeliveryView): boolean {
  return env.features.cicd && env.services.some((s) => s.source !== undefined && s.image.ecrRepository !== undefined);
}

/**
 * Every problem of the release chain, one line each in the config format. Names are checked
 * by the schema (environment names); a chain that reaches an environment not loaded with
 * this one (a test loading one file) is checked when the whole config loads.
 */
export function deliveryProblems(environments: readonly DeliveryView[], accounts: readonly AccountConfig[]): string[] {
  const problems: string[] = [];
  const byName = new Map<string, DeliveryView>(environments.map((e) => [e.name, e]));
  const valid = (pred: (e: DeliveryView) => boolean) => environments.filter(pred).map((e) => show(e.name)).join(", ") || "none";
  for (const env of environments) {
    const c = env.cicd;
    const at = `${env.name}.cicd`;
    if (c.releases === "build") {
      c.then.forEach((name, i) => {
        const next = byName.get(name);
        if (name === env.name || c.then.indexOf(name) !== i) {
          problems.push(`${at}.then[${i}]: names ${name === env.name ? "the environment itself" : "an environment twice"}; got ${show(name)}; each later environment appears once`);
        } else if (!next) {
          return;
        } else if (next.cicd.releases !== "delivered" || next.cicd.by !== env.name) {
          problems.push(`${at}.then[${i}]: environment ${show(name)} must say it is delivered by this pipeline; got its cicd.releases ${show(next.cicd.releases)}; set ${name}'s cicd to { releases: "delivered", by: "${env.name}" }`);
        } else if (next.accountId !== env.accountId || next.region !== env.region) {
          problems.push(`${at}.then[${i}]: environment ${show(name)} is in ${next.accountId}/${next.region}, the pipeline in ${env.accountId}/${env.region}; one pipeline deploys within its account and region; promote across accounts instead (releases "promote")`);
        } else if (delivers(env) !== delivers(next)) {
          problems.push(`${at}.then[${i}]: ${delivers(env) ? `environment ${show(name)} has no pipelines to be delivered to (features.cicd off or no service with a source)` : `this environment has no pipelines (features.cicd off), so nothing delivers ${show(name)}`}; got features.cicd ${env.features.cicd} here and ${next.features.cicd} there; use the same setting`);
        }
      });
    }
    if (c.releases === "delivered") {
      const by = byName.get(c.by);
      if (by && by.name === env.name) problems.push(`${at}.by: names the environment itself; got ${show(c.by)}; valid: ${valid((e) => e.cicd.releases === "build")}`);
      else if (by && (by.cicd.releases !== "build" || !by.cicd.then.includes(env.name))) {
        problems.push(`${at}.by: environment ${show(c.by)} does not deploy here; got its cicd ${by.cicd.releases === "build" ? `then ${show(by.cicd.then)}` : `releases ${show(by.cicd.releases)}`}; add "${env.name}" to ${c.by}'s cicd.then`);
      }
    }
    if (c.releases === "promote") {
      const from = byName.get(c.from);
      if (!from) {
        // Checked when the whole config loads.
      } else if (from.name === env.name) {
        problems.push(`${at}.from: names the environment itself; got ${show(c.from)}; valid: ${valid((e) => e.name !== env.name && e.cicd.releases !== "promote")}`);
      } else if (from.cicd.releases === "promote") {
        problems.push(`${at}.from: environment ${show(c.from)} promotes too, so no pipeline tags what it ran; got its cicd.releases "promote"; promote from an environment a build pipeline deploys`);
      } else {
        const builder = from.cicd.releases === "build" ? from : byName.get(from.cicd.by);
        if (builder && builder.cicd.releases === "build" && !/\*\.\*\.\*$/.test(builder.cicd.branchPattern)) {
          problems.push(`${builder.name}.cicd.branchPattern: environment ${show(env.name)} promotes its releases, which are tagged release-<x.y.z> from the branch name; got ${show(builder.cicd.branchPattern)}; use a versioned pattern such as "release/*.*.*"`);
        }
      }
    }
    if (c.releases !== "delivered" && delivers(env)) {
      const account = accounts.find((a) => a.name === env.account);
      if (account && !account.sourceConnectionArn) {
        problems.push(`accounts.${account.name}.sourceConnectionArn: environment ${show(env.name)} has pipelines, which use the account's one Bitbucket connection; got none; apply the account stack and set its output source_connection_arn here`);
      }
    }
  }
  return problems;
}

/** Per account: the image repositories (config names) its environments deliver, sorted and unique. */
export function accountRepositories(account: Pick<AccountConfig, "name">, environments: readonly DeliveryView[]): string[] {
  const names = environments.filter((e) => e.account === account.name).flatMap((e) => e.services.flatMap((s) => (s.image.ecrRepository !== undefined ? [s.image.ecrRepository] : [])));
  return [...new Set(names)].sort();
}

/** Per account: the accounts (ID, region) that promote from it, so its registry replicates there and lets them read release tags. */
export function promotionDestinations(account: Pick<AccountConfig, "id">, environments: readonly DeliveryView[]): { accountId: string; region: string }[] {
  const out = new Map<string, { accountId: string; region: string }>();
  for (const env of environments) {
    if (env.cicd.releases !== "promote") continue;
    const source = env.cicd.from;
    const from = environments.find((e) => e.name === source);
    if (from && from.accountId === account.id && env.accountId !== account.id) out.set(`${env.accountId}/${env.region}`, { accountId: env.accountId, region: env.region });
  }
  return [...out.values()];
}

/** Per account: the accounts whose images replicate into it (the sources of its environments' promotions). */
export function promotionSources(account: Pick<AccountConfig, "id">, environments: readonly DeliveryView[]): string[] {
  const out = new Set<string>();
  for (const env of environments) {
    if (env.cicd.releases !== "promote" || env.accountId !== account.id) continue;
    const source = env.cicd.from;
    const from = environments.find((e) => e.name === source);
    if (from && from.accountId !== account.id) out.add(from.accountId);
  }
  return [...out].sort();
}
