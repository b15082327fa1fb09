/** The AWS adapters of the review API against kinesalite (label events) and the S3 presigner (image URLs). */
import '../../../src/simulate/polyfill';
import { S3Client } from '@aws-sdk/client-s3';
import { imagePresigner, kinesisPublisher } from '../../../lambdas/review-api/adapters';
import { Emulators } from '../../../src/simulate/emulators';

let emulators: Emulators;
beforeAll(async () => {
  emulators = await Emulators.start();
});
afterAll(async () => {
  await emulators.close();
});

test('label events go onto the stream, keyed by image', async () => {
  await emulators.createStream('labels', 1);
  const publish = kinesisPublisher(emulators.kinesis, { StreamName: 'labels' });
  await publish([
    { event_id: 'review-1', image_key: 'images/a.png', label: 'cat' },
    { event_id: 'review-2', image_key: 'images/b.png', label: 'dog' },
  ]);
  const records = await emulators.readNew('labels');
  expect(records.map((r) => [r.partitionKey, JSON.parse(Buffer.from(r.data).toString('utf8')).label])).toEqual([
    ['images/a.png', 'cat'],
    ['images/b.png', 'dog'],
  ]);
});

test('a refused stream write fails the publish', async () => {
  const publish = kinesisPublisher(emulators.kinesis, { StreamName: 'no-such-stream' });
  await expect(publish([{ image_key: 'images/a.png' }])).rejects.toThrow(/no-such-stream|not found/i);
});

describe('imagePresigner', () => {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9999/s3',
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const presign = imagePresigner(s3, 'raw-bucket', 'images/', 120);

  test('signs a GET of the image that expires after the configured seconds, at the given time', async () => {
    const url = new URL(await presign('images/cam/cat 1.png', new Date('2026-11-23T10:00:00.000Z')));
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:9999/s3/raw-bucket/images/cam/cat%201.png');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('120');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261123T100000Z');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  test.each(['datacapture/x.json', 'images/../secret.png'])('refuses %s outside the images prefix', async (key) => {
    await expect(presign(key, new Date())).rejects.toThrow(/is not under images\//);
  });
});
