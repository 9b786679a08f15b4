/**
 * AWS SDK v3 clients pointed at the emulator (never at AWS): loopback endpoint, fake
 * credentials, the emulator's self-signed certificate accepted for this address only, and
 * few retries so a missing API fails at once.
 */
import * as https from "https";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ECSClient } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { KMSClient } from "@aws-sdk/client-kms";
import { RDSClient } from "@aws-sdk/client-rds";
import { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { S3Client } from "@aws-sdk/client-s3";
import { EMULATOR_CREDENTIALS, parseEmulatorEndpoint } from "../../src/emulator";

export interface EmulatorClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly ec2: EC2Client;
  readonly ecs: ECSClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly rds: RDSClient;
  readonly kms: KMSClient;
  readonly tagging: ResourceGroupsTaggingAPIClient;
  destroy(): void;
}

export function emulatorClients(endpoint: string, region: string): EmulatorClients {
  // The project runs on Node 20 (package.json engines); the SDK's notice about its future
  // Node 22 floor is noise in every e2e run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const url = parseEmulatorEndpoint(endpoint);
  const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });
  const common = {
    endpoint: url,
    region,
    credentials: { accessKeyId: EMULATOR_CREDENTIALS.accessKey, secretAccessKey: EMULATOR_CREDENTIALS.secretKey },
    maxAttempts: 2,
    requestHandler: { httpsAgent: agent },
  };
  const clients = {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    dynamodb: new DynamoDBClient(common),
    ec2: new EC2Client(common),
    ecs: new ECSClient(common),
    elbv2: new ElasticLoadBalancingV2Client(common),
    rds: new RDSClient(common),
    kms: new KMSClient(common),
    tagging: new ResourceGroupsTaggingAPIClient(common),
  };
  return {
    ...clients,
    destroy: () => {
      for (const c of Object.values(clients)) c.destroy();
      agent.destroy();
    },
  };
}
