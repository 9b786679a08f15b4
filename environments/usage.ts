/**
 * Usage assumptions of the monthly cost estimate (`npm run cost`, the cost line after
 * `npm run synth`), per environment name. Only what the synthesized JSON cannot say: traffic,
 * log volume, build minutes. Plain data on purpose: the fields, their units and their
 * defaults are defined once, in the schema in src/insight/usage.ts; a field left out takes
 * the default stated there, an unknown field or a negative amount is an error.
 */
export const usage: Readonly<Record<string, unknown>> = {
  // Feature branches: little traffic, many builds.
  develop: {
    loadBalancer: { capacityUnitsPerHour: 0.2 },
    logs: { ingestedGbPerMonth: { service: 0.5, flowLogs: 1 } },
    delivery: { buildMinutesPerMonth: 300, pipelineActionMinutesPerMonth: 400 },
  },
  test: {
    loadBalancer: { capacityUnitsPerHour: 0.5 },
    nat: { dataGbPerMonth: 10 },
    logs: { ingestedGbPerMonth: { service: 1, flowLogs: 2 } },
    delivery: { buildMinutesPerMonth: 100, pipelineActionMinutesPerMonth: 150 },
  },
  qa: {
    loadBalancer: { capacityUnitsPerHour: 0.5 },
    nat: { dataGbPerMonth: 5 },
    logs: { ingestedGbPerMonth: { service: 1, flowLogs: 2 } },
    delivery: { buildMinutesPerMonth: 100, pipelineActionMinutesPerMonth: 150 },
  },
  // Production traffic; images come through the VPC endpoints, so NAT carries little.
  prod: {
    loadBalancer: { capacityUnitsPerHour: 2 },
    nat: { dataGbPerMonth: 10 },
    vpcEndpoints: { dataGbPerMonth: 10 },
    logs: { ingestedGbPerMonth: { service: 5, flowLogs: 10, trail: 2 } },
    delivery: { buildMinutesPerMonth: 60, pipelineActionMinutesPerMonth: 120 },
    config: { itemsPerMonth: 2000 },
  },
};
