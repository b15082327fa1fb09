/**
 * `recommend` API (Lambda function URL, IAM auth). Parses the HTTP request, wires the feature store, the SageMaker
 * runtime (one attempt, tight timeout) and Powertools, and runs {@link recommend}.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ServedSlate } from '../../core/recommender/slate';
import { DynamoFeatureStore } from '../shared/aws/dynamo-feature-store';
import { parseRequest, recommend, RequestError, type ServingOutcome } from '../../core/recommender/recommend';
import { ModelVersionCache, sageMakerScorer } from '../shared/aws/sagemaker-scorer';
import { servingSettingsFromEnv } from '../../core/recommender/settings';

const logger = new Logger();
const metrics = new Metrics({ namespace: 'MlBlueprint/Recommender' });
const tracer = new Tracer();
const settings = servingSettingsFromEnv(process.env);
const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
const store = new DynamoFeatureStore(DynamoDBDocumentClient.from(dynamo), settings.tableName);
// One attempt: a retry would blow the latency budget; the fallback is the retry.
const runtime = tracer.captureAWSv3Client(
  new SageMakerRuntimeClient({
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: settings.invokeTimeoutMs,
      requestTimeout: settings.invokeTimeoutMs,
    }),
  }),
);
const sagemaker = tracer.captureAWSv3Client(new SageMakerClient({ maxAttempts: 2 }));
const kinesis = tracer.captureAWSv3Client(new KinesisClient({ maxAttempts: 2 }));

const scorer = sageMakerScorer(runtime, settings.endpointName, new ModelVersionCache(sagemaker, settings.endpointName));

/**
 * Puts a served slate on the event stream (partition key: the user, so it precedes the user's feedback on its
 * shard); Firehose delivers it to the lake's `served_slate_events` table.
 */
export function slateLogger(client: KinesisClient, streamName: string): (slate: ServedSlate) => Promise<void> {
  return async (slate) => {
    await client.send(
      new PutRecordCommand({
        StreamName: streamName,
        PartitionKey: slate.user_id,
        Data: new TextEncoder().encode(JSON.stringify(slate)),
      }),
    );
  };
}

const logSlate = settings.slateStreamName ? slateLogger(kinesis, settings.slateStreamName) : undefined;

/** The request fields from the query string (GET) or the JSON body (POST). */
export function requestInput(event: APIGatewayProxyEventV2): unknown {
  if (event.body) {
    const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    try {
      return JSON.parse(text);
    } catch {
      throw new RequestError('body must be a JSON object such as {"userId": "u1", "k": 10}');
    }
  }
  return { ...(event.queryStringParameters ?? {}) };
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Fallback rate (average of 0/1), latencies and the fallback reason as EMF metrics. */
export function publishOutcome(m: Metrics, outcome: ServingOutcome): void {
  const r = outcome.response;
  m.addMetric('Requests', MetricUnit.Count, 1);
  m.addMetric('Fallback', MetricUnit.Count, r.fallback ? 1 : 0);
  m.addMetric('Latency', MetricUnit.Milliseconds, outcome.latencyMs);
  if (outcome.modelLatencyMs !== undefined)
    m.addMetric('ModelLatency', MetricUnit.Milliseconds, outcome.modelLatencyMs);
  if (!outcome.predictionStored) m.addMetric('PredictionNotStored', MetricUnit.Count, 1);
  if (outcome.slateLogged !== undefined) m.addMetric('SlateNotLogged', MetricUnit.Count, outcome.slateLogged ? 0 : 1);
  if (r.fallbackReason) {
    const single = m.singleMetric();
    single.addDimensions({ Endpoint: settings.endpointName, Reason: r.fallbackReason });
    single.addMetric('FallbackByReason', MetricUnit.Count, 1);
  }
}

/** The Lambda entry point. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  metrics.addDimensions({ Endpoint: settings.endpointName });
  try {
    const request = parseRequest(requestInput(event), settings.maxK);
    const outcome = await recommend(request, settings, {
      store,
      score: scorer,
      newInferenceId: randomUUID,
      now: () => new Date(),
      log: (level, message, data) => logger[level](message, data ?? {}),
      logSlate,
    });
    publishOutcome(metrics, outcome);
    logger.info('served', {
      inferenceId: outcome.response.inferenceId,
      fallback: outcome.response.fallback,
      reason: outcome.response.fallbackReason,
      latencyMs: outcome.latencyMs,
    });
    return json(200, outcome.response);
  } catch (error) {
    if (error instanceof RequestError) return json(400, { message: error.message });
    logger.error('request failed', { error: (error as Error).message });
    metrics.addMetric('Errors', MetricUnit.Count, 1);
    return json(500, { message: 'internal error' });
  } finally {
    metrics.publishStoredMetrics();
  }
}
