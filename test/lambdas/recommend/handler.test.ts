/**
 * The `recommend` Lambda with its real wiring: feature store on dynalite (loopback), SageMaker mocked
 * (aws-sdk-client-mock), function-URL events in and out.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { mockClient } from 'aws-sdk-client-mock';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DynamoFeatureStore } from '../../../lambdas/shared/aws/dynamo-feature-store';
import { bucketStart } from '../../../core/recommender/features';
import type { ServingOutcome } from '../../../core/recommender/recommend';
import { FeatureStore } from '../../../lib/case-studies/recommender/feature-store';
import { RecommendApi } from '../../../lib/case-studies/recommender/recommend-api';
import { RECOMMEND_ENV } from './env';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (o: { createTableMs: number }) => Server;
const runtime = mockClient(SageMakerRuntimeClient);
const sagemaker = mockClient(SageMakerClient);
let server: Server;
let dynamo: DynamoDBClient;
let store: DynamoFeatureStore;
let handler: (e: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
let publishOutcome: (m: Metrics, outcome: ServingOutcome) => void;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    ...RECOMMEND_ENV,
  });
  dynamo = new DynamoDBClient({ endpoint, requestHandler: new NodeHttpHandler() });
  await dynamo.send(
    new CreateTableCommand({
      TableName: 'features',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  store = new DynamoFeatureStore(DynamoDBDocumentClient.from(dynamo), 'features');
  const expires = Math.floor(Date.now() / 1000) + 3600;
  const now = bucketStart(new Date(), 15);
  await store.mergePopular(
    now,
    new Map([
      ['a', 30],
      ['b', 20],
      ['c', 10],
    ]),
    100,
    expires,
  );
  await store.mergePopular(now, new Map([['d', 5]]), 100, expires); // a second merge (conditional update path)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ handler, publishOutcome } = require('../../../lambdas/recommend/index'));
});

afterAll(async () => {
  dynamo?.destroy();
  runtime.restore();
  sagemaker.restore();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  runtime.reset();
  sagemaker.reset();
  sagemaker.on(DescribeEndpointCommand).resolves({ EndpointConfigName: 'mlbp-sandbox-recommender-run-1' } as never);
});

const get = (query: Record<string, string>) =>
  ({ rawPath: '/', queryStringParameters: query, isBase64Encoded: false }) as unknown as APIGatewayProxyEventV2;

test('GET ?userId&k: model ranking, inference id, prediction stored in DynamoDB for the feedback join', async () => {
  runtime.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode('0.1\n0.9\n0.5\n0.2') as never });
  const res = await handler(get({ userId: 'u1', k: '2' }));
  expect(res.statusCode).toBe(200);
  const body = JSON.parse(String(res.body));
  expect(body).toMatchObject({ fallback: false, modelVersion: 'mlbp-sandbox-recommender-run-1' });
  expect(body.items.map((i: { itemId: string }) => i.itemId)).toEqual(['b', 'c']);
  const stored = await store.predictions([body.inferenceId]);
  expect(stored.get(body.inferenceId)).toMatchObject({ items: ['b', 'c'], fallback: false });
});

test('endpoint not deployed yet: 200 with the popularity fallback', async () => {
  runtime
    .on(InvokeEndpointCommand)
    .rejects(
      new ValidationError({ message: 'Endpoint mlbp-sandbox-recommender of account 1 not found.', $metadata: {} }),
    );
  const body = JSON.parse(String((await handler(get({ userId: 'u2', k: '3' }))).body));
  expect(body).toMatchObject({ fallback: true, fallbackReason: 'no-endpoint' });
  expect(body.items.map((i: { itemId: string }) => i.itemId)).toEqual(['a', 'b', 'c']);
  expect(typeof body.inferenceId).toBe('string');
});

test('bad requests are 400 with the reason; POST JSON bodies are accepted', async () => {
  expect((await handler(get({ userId: 'u1', k: '50' }))).statusCode).toBe(400);
  expect(String((await handler(get({ k: '2' }))).body)).toMatch(/userId/);
  const bad = { body: '{nope', isBase64Encoded: false } as unknown as APIGatewayProxyEventV2;
  expect((await handler(bad)).statusCode).toBe(400);
  runtime.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode('1,2,3,4') as never });
  const post = {
    body: Buffer.from('{"userId":"u3","k":1}').toString('base64'),
    isBase64Encoded: true,
  } as unknown as APIGatewayProxyEventV2;
  const res = await handler(post);
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(String(res.body)).items).toEqual([{ itemId: 'd', score: 4, position: 0 }]);
});

test('EMF metrics carry exactly the dimensions the fallback-rate alarm watches (service + Endpoint)', () => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const m = new Metrics({ namespace: 'MlBlueprint/Recommender', serviceName: 'recommend' });
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    m.addDimensions({ Endpoint: 'mlbp-sandbox-recommender' });
    publishOutcome(m, {
      response: {
        inferenceId: 'i',
        userId: 'u',
        modelVersion: 'fallback',
        fallback: true,
        fallbackReason: 'timeout',
        featureVersion: 1,
        items: [],
      },
      latencyMs: 12,
      predictionStored: true,
    });
    m.publishStoredMetrics();
  } finally {
    spy.mockRestore();
  }
  const emf = lines.map((l) => JSON.parse(l)).find((o) => o.Fallback !== undefined);
  expect(emf).toMatchObject({ Fallback: 1, service: 'recommend', Endpoint: 'mlbp-sandbox-recommender' });
  const dims = emf._aws.CloudWatchMetrics[0].Dimensions as string[][];

  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
  const key = new kms.Key(stack, 'K');
  const api = new RecommendApi(stack, 'Api', {
    caseStudy: 'recommender',
    stage: 'sandbox',
    endpointName: 'mlbp-sandbox-recommender',
    featureStore: new FeatureStore(stack, 'F', { encryptionKey: key }),
    invokeTimeout: Duration.millis(100),
    candidates: 10,
    maxK: 5,
    recentItemsPerUser: 5,
    popularityBucket: Duration.minutes(15),
    predictionTtl: Duration.hours(48),
    encryptionKey: key,
  });
  const alarmDims = Object.keys(api.metricFallbackRate().dimensions ?? {}).sort();
  expect(dims.map((d) => [...d].sort())).toContainEqual(alarmDims);
  expect(api.metricFallbackRate().namespace).toBe(emf._aws.CloudWatchMetrics[0].Namespace);
});
