/**
 * The serving logic with the real SageMaker scorer on a mocked SageMaker runtime (aws-sdk-client-mock: there is no
 * emulator) and an in-memory feature store: the model path, and each fallback path (timeout, 5xx, throttling,
 * missing endpoint, bad response) returns the popularity ranking marked as fallback, with an inference id.
 */
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import {
  InternalFailure,
  InvokeEndpointCommand,
  ModelError,
  SageMakerRuntimeClient,
  ServiceUnavailable,
  ValidationError,
} from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { FEATURE_COLUMNS, bucketStart } from '../../../core/recommender/features';
import {
  classifyScoringError,
  parseRequest,
  recommend,
  RequestError,
  type ServingSettings,
} from '../../../core/recommender/recommend';
import { ModelVersionCache, sageMakerScorer } from '../../../lambdas/shared/aws/sagemaker-scorer';
import { MemoryFeatureStore } from '../../support/memory-feature-store';

const NOW = new Date('2026-11-23T10:07:30.000Z');
const ENDPOINT = 'mlbp-sandbox-recommender';
const settings: ServingSettings = {
  endpointName: ENDPOINT,
  invokeTimeoutMs: 50,
  candidates: 6,
  maxK: 5,
  recentItemsPerUser: 20,
  popularityBucketMinutes: 15,
  predictionTtlHours: 48,
};
const runtimeMock = mockClient(SageMakerRuntimeClient);
const sageMakerMock = mockClient(SageMakerClient);
const runtime = new SageMakerRuntimeClient({ region: 'us-east-1' });
const sagemaker = new SageMakerClient({ region: 'us-east-1' });

function world() {
  const store = new MemoryFeatureStore();
  const bucket = bucketStart(NOW, 15);
  // Popularity: i0 > i1 > … > i7; the user has seen i1.
  store.popularLists.set(bucket, new Map(Array.from({ length: 8 }, (_, i) => [`i${i}`, 80 - i * 10])));
  store.recent.set('u1', [
    { userId: 'u1', itemId: 'i1', eventType: 'click', eventTime: '2026-11-23T10:00:00.000Z', eventId: 'e1' },
  ]);
  let n = 0;
  const ports = {
    store,
    score: sageMakerScorer(runtime, ENDPOINT, new ModelVersionCache(sagemaker, ENDPOINT)),
    newInferenceId: () => `inf-${++n}`,
    now: () => NOW,
    log: () => undefined,
  };
  return { store, ports };
}

beforeEach(() => {
  runtimeMock.reset();
  sageMakerMock.reset();
  sageMakerMock.on(DescribeEndpointCommand).resolves({ EndpointConfigName: `${ENDPOINT}-run-7` } as never);
});

const body = (text: string) => new TextEncoder().encode(text) as never;
const text = (b: unknown) => (typeof b === 'string' ? b : new TextDecoder().decode(b as Uint8Array));

test('model path: one CSV row per unseen candidate, ranked by score, with the model version and an inference id', async () => {
  const { store, ports } = world();
  // Scores favour the less popular items, so the ranking visibly comes from the model.
  runtimeMock.on(InvokeEndpointCommand).callsFake(({ Body }) => {
    const rows = text(Body).split('\n');
    return { Body: body(rows.map((_, i) => (0.1 + i * 0.1).toFixed(2)).join('\n')), ContentType: 'text/csv' };
  });
  const { response, modelLatencyMs } = await recommend({ userId: 'u1', k: 3 }, settings, ports);
  const call = runtimeMock.commandCalls(InvokeEndpointCommand)[0].args[0].input;
  expect(call).toMatchObject({ EndpointName: ENDPOINT, ContentType: 'text/csv' });
  const rows = text(call.Body).split('\n');
  expect(rows).toHaveLength(6); // i0, i2..i6: the seen item i1 is not a candidate
  expect(rows.every((r) => r.split(',').length === FEATURE_COLUMNS.length)).toBe(true);
  expect(response).toMatchObject({
    inferenceId: 'inf-1',
    fallback: false,
    modelVersion: `${ENDPOINT}-run-7`,
    items: [
      { itemId: 'i6', position: 0, score: 0.6 },
      { itemId: 'i5', position: 1 },
      { itemId: 'i4', position: 2 },
    ],
  });
  expect(response.fallbackReason).toBeUndefined();
  expect(modelLatencyMs).toBeGreaterThanOrEqual(0);
  // Stored for the feedback join.
  expect(store.predictionRecords.get('inf-1')).toMatchObject({
    modelVersion: `${ENDPOINT}-run-7`,
    items: ['i6', 'i5', 'i4'],
  });
});

const popularity = ['i0', 'i2', 'i3'];

test.each([
  [
    'invoke that never answers',
    'timeout',
    // Never settles: the response can only come from the invoke timeout, which aborts the request.
    () => runtimeMock.on(InvokeEndpointCommand).callsFake(() => new Promise(() => undefined)),
  ],
  [
    'model container error (424)',
    'model-error',
    () =>
      runtimeMock
        .on(InvokeEndpointCommand)
        .rejects(
          new ModelError({ message: 'Received server error (500) from primary', $metadata: { httpStatusCode: 424 } }),
        ),
  ],
  [
    'endpoint unavailable (503)',
    'model-error',
    () =>
      runtimeMock
        .on(InvokeEndpointCommand)
        .rejects(new ServiceUnavailable({ message: 'unavailable', $metadata: { httpStatusCode: 503 } })),
  ],
  [
    'internal failure (500)',
    'model-error',
    () =>
      runtimeMock
        .on(InvokeEndpointCommand)
        .rejects(new InternalFailure({ message: 'boom', $metadata: { httpStatusCode: 500 } })),
  ],
  [
    'throttling',
    'throttled',
    () =>
      runtimeMock.on(InvokeEndpointCommand).rejects(
        Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 400 },
        }),
      ),
  ],
  [
    'endpoint not deployed yet',
    'no-endpoint',
    () =>
      runtimeMock.on(InvokeEndpointCommand).rejects(
        new ValidationError({
          message: `Endpoint ${ENDPOINT} of account 123456789012 not found.`,
          $metadata: { httpStatusCode: 400 },
        }),
      ),
  ],
  ['one score short', 'bad-response', () => runtimeMock.on(InvokeEndpointCommand).resolves({ Body: body('0.5,0.4') })],
])(
  '%s → %s: the popularity ranking, marked as fallback, still with an inference id',
  async (_label, reason, arrange) => {
    arrange();
    const { store, ports } = world();
    const { response } = await recommend({ userId: 'u1', k: 3 }, settings, ports);
    // Never waits past the invoke timeout: a timed-out request is aborted, not left running.
    const options = (runtimeMock.send.firstCall.args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined;
    expect(options?.abortSignal?.aborted).toBe(reason === 'timeout');
    expect(response).toMatchObject({
      fallback: true,
      fallbackReason: reason,
      modelVersion: 'fallback',
      inferenceId: 'inf-1',
    });
    expect(response.items.map((i) => i.itemId)).toEqual(popularity);
    expect(response.items[0].score).toBe(1);
    expect(store.predictionRecords.get('inf-1')).toMatchObject({ fallback: true, modelVersion: 'fallback' });
  },
);

test('no popular items yet: an empty fallback, not an error', async () => {
  const { store, ports } = world();
  store.popularLists.clear();
  const { response } = await recommend({ userId: 'u1', k: 3 }, settings, ports);
  expect(response).toMatchObject({ fallback: true, fallbackReason: 'no-candidates', items: [] });
  expect(runtimeMock.commandCalls(InvokeEndpointCommand)).toHaveLength(0);
});

test('a heavy user who has seen every popular item still gets k items', async () => {
  const { store, ports } = world();
  runtimeMock.on(InvokeEndpointCommand).rejects(new ModelError({ message: 'x', $metadata: {} }));
  store.recent.set(
    'u1',
    Array.from({ length: 8 }, (_, i) => ({
      userId: 'u1',
      itemId: `i${i}`,
      eventType: 'view',
      eventTime: `2026-11-23T10:0${i}:00.000Z`,
      eventId: `e${i}`,
    })),
  );
  const { response } = await recommend({ userId: 'u1', k: 3 }, settings, ports);
  expect(response.items.map((i) => i.itemId)).toEqual(['i0', 'i1', 'i2']);
});

test('the model version is unknown (not an error) when the endpoint cannot be described', async () => {
  sageMakerMock.on(DescribeEndpointCommand).rejects(new Error('AccessDenied'));
  const cache = new ModelVersionCache(sagemaker, ENDPOINT, () => 0);
  expect(await cache.get()).toBe('unknown');
});

test('a prediction that cannot be stored does not fail the request', async () => {
  const { store, ports } = world();
  runtimeMock.on(InvokeEndpointCommand).rejects(new ModelError({ message: 'x', $metadata: {} }));
  store.failures.putPrediction = () => new Error('throttled');
  const outcome = await recommend({ userId: 'u1', k: 2 }, settings, ports);
  expect(outcome.predictionStored).toBe(false);
  expect(outcome.response.items).toHaveLength(2);
});

test('requests: k defaults to 10 within maxK, strings are coerced, bad input is a RequestError naming the field', () => {
  expect(parseRequest({ userId: 'u1' }, 20)).toEqual({ userId: 'u1', k: 10 });
  expect(parseRequest({ userId: 'u1' }, 5)).toEqual({ userId: 'u1', k: 5 });
  expect(parseRequest({ userId: 'u1', k: '3' }, 5)).toEqual({ userId: 'u1', k: 3 });
  expect(() => parseRequest({ userId: 'u1', k: 6 }, 5)).toThrow(RequestError);
  expect(() => parseRequest({ k: 2 }, 5)).toThrow(/userId/);
  expect(() => parseRequest({ userId: 'u1', surface: 'tv-guide' }, 5)).toThrow(/surface/);
});

test('classification of transport errors', () => {
  expect(classifyScoringError(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe('timeout');
  expect(classifyScoringError({ name: 'X', $metadata: { httpStatusCode: 429 } })).toBe('throttled');
  expect(classifyScoringError(new Error('something else'))).toBe('error');
});
