/**
 * The release chain across environments (environments/delivery.ts): build once in test,
 * deploy test then QA, promote QA's digest to prod; every broken link refused with what to do.
 */
import { ALL_ACCOUNT_INPUTS, ENVIRONMENT_INPUTS, loadConfig } from "../../environments";
import { AccountInput, withAccount } from "../../environments/accounts";
import { accountRepositories, deliveryProblems, pipelinePlan, promotionDestinations, promotionSources } from "../../environments/delivery";
import { EnvironmentInput } from "../../environments/schema";
import { stateBackendInput } from "../../environments/state-backend";
import { configProblems } from "../helpers";

type Cicd = EnvironmentInput["cicd"];
const inputs = (change: (envs: Record<string, EnvironmentInput>) => void = () => undefined, accounts: readonly AccountInput[] = ALL_ACCOUNT_INPUTS) => {
  const envs = ENVIRONMENT_INPUTS.map((e) => withAccount(structuredClone(e), accounts, stateBackendInput));
  change(Object.fromEntries(envs.map((e) => [e.name, e])));
  return envs;
};
const problemsOf = configProblems;

describe("release flow", () => {
  const config = loadConfig();
  const byName = Object.fromEntries(config.environments.map((e) => [e.name, e]));

  test("develop builds feature/* and deploys itself; test builds release/*.*.* once, deploys test then QA and tags the release; prod promotes QA's digest", () => {
    expect(Object.fromEntries(config.environments.map((e) => [e.name, e.delivery?.pipeline]))).toEqual({
      develop: { kind: "build", targets: ["develop"], tagsRelease: false },
      test: { kind: "build", targets: ["test", "qa"], tagsRelease: true },
      qa: undefined,
      prod: { kind: "promote", targets: ["prod"], tagsRelease: false, promotesFrom: { environment: "qa", accountId: "111111111111", region: "us-east-1" } },
    });
    // Every environment knows its account's one connection.
    expect(config.environments.map((e) => e.delivery?.connectionArn?.split(":")[4])).toEqual(["111111111111", "111111111111", "111111111111", "222222222222"]);
    expect(pipelinePlan(byName.qa, config.environments)).toBeUndefined();
  });

  test("each account's registry holds the images its environments run; nonprod replicates to prod, prod accepts from nonprod", () => {
    const [nonprod, prod] = config.accounts;
    expect(accountRepositories(nonprod, config.environments)).toEqual(["api", "worker"]);
    expect(accountRepositories(prod, config.environments)).toEqual(["api", "worker"]);
    expect(promotionDestinations(nonprod, config.environments)).toEqual([{ accountId: "222222222222", region: "us-east-1" }]);
    expect(promotionDestinations(prod, config.environments)).toEqual([]);
    expect(promotionSources(prod, config.environments)).toEqual(["111111111111"]);
    expect(promotionSources(nonprod, config.environments)).toEqual([]);
  });

  test.each<[string, (envs: Record<string, EnvironmentInput>) => void, string[]]>([
    [
      "a pipeline deploying an environment that does not say so",
      (e) => (e.qa.cicd = { releases: "build", manualApproval: false, branchPattern: "release/*.*.*", releaseBranch: "release/1.0.0" }),
      ['test.cicd.then[0]: environment "qa" must say it is delivered by this pipeline; got its cicd.releases "build"; set qa\'s cicd to { releases: "delivered", by: "test" }'],
    ],
    [
      "an environment delivered by a pipeline that does not deploy it",
      (e) => ((e.test.cicd as Extract<Cicd, { releases: "build" }>).then = []),
      ['qa.cicd.by: environment "test" does not deploy here; got its cicd then []; add "qa" to test\'s cicd.then'],
    ],
    [
      "a pipeline that deploys itself again, or one environment twice",
      (e) => ((e.test.cicd as Extract<Cicd, { releases: "build" }>).then = ["qa", "test", "qa"]),
      ["test.cicd.then[1]: names the environment itself; got \"test\"; each later environment appears once", "test.cicd.then[2]: names an environment twice; got \"qa\"; each later environment appears once"],
    ],
    [
      "a promotion from an environment that promotes too",
      (e) => {
        e.develop.cicd = { releases: "promote", from: "prod", manualApproval: false, branchPattern: "prod/*", releaseBranch: "prod/1.0.0" };
      },
      ['develop.cicd.from: environment "prod" promotes too, so no pipeline tags what it ran; got its cicd.releases "promote"; promote from an environment a build pipeline deploys'],
    ],
    [
      "a promotion from a chain whose branches carry no version (no release-x.y.z tag)",
      (e) => {
        const test = e.test.cicd as Extract<Cicd, { releases: "build" }>;
        test.branchPattern = "release/*";
        test.releaseBranch = "release/next";
      },
      ['test.cicd.branchPattern: environment "prod" promotes its releases, which are tagged release-<x.y.z> from the branch name; got "release/*"; use a versioned pattern such as "release/*.*.*"'],
    ],
    [
      "a promotion of itself",
      (e) => ((e.prod.cicd as Extract<Cicd, { releases: "promote" }>).from = "prod"),
      ['prod.cicd.from: names the environment itself; got "prod"; valid: "develop", "test", "qa"'],
    ],
    [
      "an approval gate nobody is notified of",
      (e) => {
        (e.develop.cicd as Extract<Cicd, { releases: "build" }>).manualApproval = true;
        e.develop.observability = { warning: { emails: [] } };
      },
      ["develop.observability.warning.emails: the approval gate notifies the warning topic, which would have no subscriber; got []; add an approver address"],
    ],
    [
      "a name that is no environment",
      (e) => ((e.prod.cicd as Record<string, unknown>).from = "qaa"),
      ['prod.cicd.from: is not allowed; got "qaa"; valid: "develop", "test", "qa", "prod", "local"'],
    ],
  ])("refuses %s", (_what, change, expected) => {
    expect(problemsOf(inputs(change))).toEqual(expected);
  });

  test("refuses a pipeline deploying into another account or region (across accounts, promote instead)", () => {
    const moved = config.environments.map((e) => (e.name === "qa" ? { ...e, accountId: "222222222222" } : e));
    expect(deliveryProblems(moved, config.accounts)).toEqual([
      'test.cicd.then[0]: environment "qa" is in 222222222222/us-east-1, the pipeline in 111111111111/us-east-1; one pipeline deploys within its account and region; promote across accounts instead (releases "promote")',
    ]);
    expect(deliveryProblems(config.environments, config.accounts)).toEqual([]);
  });

  test("refuses pipelines in an account without its connection, and a connection of another account", () => {
    const noConnection = ALL_ACCOUNT_INPUTS.map((a) => (a.name === "prod" ? { ...structuredClone(a), sourceConnectionArn: undefined } : a));
    expect(problemsOf(inputs(() => undefined, noConnection), noConnection)).toEqual([
      'accounts.prod.sourceConnectionArn: environment "prod" has pipelines, which use the account\'s one Bitbucket connection; got none; apply the account stack and set its output source_connection_arn here',
    ]);
    const foreign = ALL_ACCOUNT_INPUTS.map((a) => (a.name === "prod" ? { ...structuredClone(a), sourceConnectionArn: "arn:aws:codeconnections:us-east-1:111111111111:connection/abc" } : a));
    expect(problemsOf(inputs(() => undefined, foreign), foreign)).toEqual([
      'accounts.prod.sourceConnectionArn: is in account 111111111111, not in this account (222222222222); every account\'s pipelines use the account\'s own connection; got "arn:aws:codeconnections:us-east-1:111111111111:connection/abc"',
    ]);
  });
});
