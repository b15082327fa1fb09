/**
 * Retraining loop, co-visitation load: the neighbour lists the co-visitation job wrote (Athena `UNLOAD`, JSON) go
 * into the feature table where the `recommend` API reads them ({@link loadCoVisitation}).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { loadCoVisitation, type CoVisitationLoad } from '../../core/recommender/covisitation';
import { DynamoFeatureStore } from '../shared/aws/dynamo-feature-store';
import { S3ObjectStore } from '../shared/aws/s3-object-store';

const logger = new Logger();
const tracer = new Tracer();
const tableName = process.env.TABLE_NAME;
const ttlHours = Number(process.env.NEIGHBOURS_TTL_HOURS);
if (!tableName) throw new Error('environment variable TABLE_NAME is required');
if (!Number.isInteger(ttlHours) || ttlHours <= 0) {
  throw new Error(
    `environment variable NEIGHBOURS_TTL_HOURS must be a positive integer; received "${process.env.NEIGHBOURS_TTL_HOURS}"`,
  );
}
const store = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));
const features = new DynamoFeatureStore(
  DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({}))),
  tableName,
);

/** The Lambda entry point: `{uri, datasetId}` → what was loaded. */
export async function handler(event: { uri: string; datasetId: string }): Promise<CoVisitationLoad> {
  const result = await loadCoVisitation(store, features, {
    uri: event.uri,
    datasetId: event.datasetId,
    expiresAt: Math.floor(Date.now() / 1000) + ttlHours * 3600,
  });
  logger.info('co-visitation loaded', { ...result });
  if (result.rejected > 0) logger.warn('co-visitation lines rejected', { rejections: result.rejections });
  return result;
}
