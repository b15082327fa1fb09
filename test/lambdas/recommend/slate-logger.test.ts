/**
 * The `recommend` handler's slate logger against kinesalite: a served slate goes on the stream as one JSON record,
 * keyed by the user, and the consumer's decoding reads it back as a valid slate.
 */
import { decodeRecord } from '../../../core/recommender/consume';
import { NUM_FEATURES } from '../../../core/recommender/contract';
import type { ServedSlate } from '../../../core/recommender/slate';
import { Emulators } from '../../../src/local-world/emulators';
import { RECOMMEND_ENV } from './env';

let emulators: Emulators;
let slateLogger: typeof import('../../../lambdas/recommend/index').slateLogger;

beforeAll(async () => {
  emulators = await Emulators.start();
  await emulators.createStream('events', 1);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    ...RECOMMEND_ENV,
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ slateLogger } = require('../../../lambdas/recommend/index'));
});

afterAll(async () => {
  await emulators?.close();
});

test('a served slate is one record on the stream, partitioned by user, that the consumer accepts', async () => {
  const slate: ServedSlate = {
    record_type: 'served_slate',
    inference_id: 'inf-1',
    event_time: '2026-11-23T10:00:00.000Z',
    user_id: 'user-7',
    surface: 'home',
    model_version: 'm-1',
    feature_version: 2,
    fallback: false,
    candidates: 30,
    items: [{ item_id: 'a', position: 0, score: 0.4, source: 'covisit', features: new Array(NUM_FEATURES).fill(0.5) }],
  };
  await slateLogger(emulators.kinesis, 'events')(slate);
  const [record, ...rest] = await emulators.readNew('events');
  expect(rest).toEqual([]);
  expect(record.partitionKey).toBe('user-7');
  const decoded = decodeRecord({
    id: `${record.shardId}:${record.sequenceNumber}`,
    sequenceNumber: record.sequenceNumber,
    partitionKey: record.partitionKey,
    data: Buffer.from(record.data).toString('base64'),
    approximateArrivalTimestamp: 0,
  });
  expect(decoded).toEqual({ ok: true, slate });
});
