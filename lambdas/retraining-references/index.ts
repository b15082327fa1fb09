/**
 * Retraining loop, after a deployment: writes the references the new model is judged against — the replaced
 * champion's realised quality and, when the case study counts CTR per model version (`CTR_TABLE_NAME`,
 * `CTR_WINDOW_MINUTES`), its CTR ({@link writeDeployReferences}).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { ctrSettingsFromEnv } from '../../core/recommender/ctr';
import {
  writeDeployReferences,
  type CtrCounters,
  type ReferencesInput,
  type ReferencesResult,
} from '../../core/retraining/references';
import { DynamoFeatureStore } from '../shared/aws/dynamo-feature-store';
import { S3ObjectStore } from '../shared/aws/s3-object-store';

const logger = new Logger();
const tracer = new Tracer();
const store = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));
const ctr = ctrSettingsFromEnv(process.env);
const featureStore = ctr
  ? new DynamoFeatureStore(
      DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({}))),
      ctr.tableName,
    )
  : undefined;
const counters: CtrCounters | undefined =
  ctr && featureStore
    ? { bucketMinutes: ctr.bucketMinutes, ctrCounts: (bucket) => featureStore.ctrCounts(bucket) }
    : undefined;

/** The Lambda entry point. */
export async function handler(event: ReferencesInput): Promise<ReferencesResult> {
  const result = await writeDeployReferences(store, counters, event, new Date());
  logger.info('wrote the deployed model references', { ...result });
  return result;
}
