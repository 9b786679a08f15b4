/**
 * What every environment has in common. An environment file overrides any of it; `npm run
 * config -- <env>` prints the effective values.
 */
import { SharedSettings } from "./catalogue";
import { sharedStateBackend } from "./state-backend";

export const SHARED: SharedSettings = {
  project: "fargate",
  region: "us-east-1",
  tags: { Owner: "platform-team", CostCenter: "engineering", Compliance: "NIST-SOC2" },
  stateBackend: { ...sharedStateBackend, useLockfile: false },
  database: {
    engineVersion: "15",
    instanceClass: "db.t4g.micro",
    multiAz: false,
    backupRetentionDays: 1,
    clientServices: ["api", "worker"],
  },
  // Warning alarms (and pipeline approvals) by email, business hours. Example address: use
  // your team's list. Critical alarms (pages) are set per environment; prod must have one.
  observability: { warning: { emails: ["platform-team@example.com"] } },
};
