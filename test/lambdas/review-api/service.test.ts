/**
 * The review queue's use cases on the real DynamoDB store against dynalite (loopback): leases, races, expiry,
 * consensus, refusals that change nothing, the intake and the keeper.
 */
import '../../../src/simulate/polyfill';
import { ReviewError } from '../../../core/review/errors';
import { Emulators } from '../../../src/simulate/emulators';
import { request } from '../../core/review/fixtures';
import { OUTCOMES, reviewWorld, type ReviewWorld } from './world';

let emulators: Emulators;
beforeAll(async () => {
  emulators = await Emulators.start();
});
afterAll(async () => {
  await emulators.close();
});

const alice = { id: 'sub-alice', name: 'alice' };
const bob = { id: 'sub-bob', name: 'bob' };
const carol = { id: 'sub-carol', name: 'carol' };

async function queue(world: ReviewWorld, ...requests: ReturnType<typeof request>[]): Promise<void> {
  for (const r of requests) expect(await world.service.intake(r)).toBe('queued');
}

async function refusal(promise: Promise<unknown>): Promise<ReviewError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof ReviewError) return e;
    throw e;
  }
  throw new Error('expected a ReviewError');
}

/** Every item of the table, as stored (to show that a refusal changed nothing). */
async function snapshot(world: ReviewWorld, ids: readonly string[]): Promise<string> {
  return JSON.stringify(await Promise.all(ids.map((id) => world.store.get(id))));
}

describe('intake', () => {
  test('queues a request once, registers its classes, refuses a malformed one without writing', async () => {
    const world = await reviewWorld(emulators);
    expect(await world.service.intake(request('uncertain', 1))).toBe('queued');
    expect(await world.service.intake(request('uncertain', 1))).toBe('duplicate');
    expect(await world.service.classes()).toEqual({ classes: ['bird', 'cat', 'dog'] });
    const error = await refusal(world.service.intake({ ...request('uncertain', 2), imageKey: 'secret/x.png' }));
    expect(error.message).toMatch(/not under images\//);
    expect(await world.store.counts()).toEqual({ pending: 1, disputed: 0 });
  });
});

describe('leases', () => {
  test('the next item comes with a presigned image, the top 3 and a lease; most uncertain first', async () => {
    const world = await reviewWorld(emulators);
    await queue(
      world,
      { ...request('uncertain', 1), uncertainty: 0.5 },
      { ...request('uncertain', 2), uncertainty: 0.9 },
    );
    const next = await world.service.next(alice);
    expect(next.waiting).toBe(2);
    expect(next.item).toMatchObject({
      imageKey: 'images/cam-day/cat/p0-00002.png',
      imageUrl: 'http://images.test/images/cam-day/cat/p0-00002.png?signed=2026-11-23T10:00:00.000Z',
      inferenceId: 'inf-2',
      reason: 'uncertain',
      reasonTitle: 'Uncertain prediction',
      topK: [
        { label: 'cat', confidence: 0.48 },
        { label: 'dog', confidence: 0.41 },
        { label: 'bird', confidence: 0.11 },
      ],
      lease: { token: 'token-1', expiresAt: '2026-11-23T10:05:00.000Z' },
    });
  });

  test('two reviewers at once get different items; with one item left, only one gets it', async () => {
    const world = await reviewWorld(emulators);
    await queue(world, request('uncertain', 1), request('uncertain', 2));
    const [a, b] = await Promise.all([world.service.next(alice), world.service.next(bob)]);
    expect(a.item?.itemId).toBeDefined();
    expect(b.item?.itemId).toBeDefined();
    expect(a.item?.itemId).not.toBe(b.item?.itemId);
    const one = await reviewWorld(emulators);
    await queue(one, request('uncertain', 3));
    const answers = await Promise.all([one.service.next(alice), one.service.next(bob), one.service.next(carol)]);
    expect(answers.filter((x) => x.item !== null)).toHaveLength(1);
  });

  test('ten reviewers racing for six items: each item is leased exactly once', async () => {
    const world = await reviewWorld(emulators);
    await queue(world, ...[1, 2, 3, 4, 5, 6].map((n) => request('uncertain', n)));
    const reviewers = Array.from({ length: 10 }, (_, i) => ({ id: `sub-${i}`, name: `r${i}` }));
    const answers = await Promise.all(reviewers.map((r) => world.service.next(r)));
    const ids = answers.flatMap((x) => (x.item ? [x.item.itemId] : []));
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
  });

  test('an expired lease returns the item to the queue; the first holder can no longer label it', async () => {
    const world = await reviewWorld(emulators);
    await queue(world, request('uncertain', 1));
    const first = await world.service.next(alice);
    expect((await world.service.next(bob)).item).toBeNull();
    world.advance(299);
    expect((await world.service.next(bob)).item).toBeNull();
    world.advance(1);
    const second = await world.service.next(bob);
    expect(second.item?.itemId).toBe(first.item?.itemId);
    const id = first.item!.itemId;
    const before = await snapshot(world, [id]);
    const late = await refusal(world.service.label(alice, id, { leaseToken: first.item!.lease.token, label: 'cat' }));
    expect(late.code).toBe('forbidden');
    expect(late.message).toMatch(/is not leased to you/);
    expect(await snapshot(world, [id])).toBe(before);
    expect(world.published).toEqual([]);
  });

  test('skip gives the item to the next reviewer and never back to the one who skipped', async () => {
    const world = await reviewWorld(emulators);
    await queue(world, request('uncertain', 1));
    const a = await world.service.next(alice);
    await world.service.skip(alice, a.item!.itemId, { leaseToken: a.item!.lease.token });
    expect((await world.service.next(alice)).item).toBeNull();
    expect((await world.service.next(bob)).item?.itemId).toBe(a.item!.itemId);
  });
});

describe('labels', () => {
  test('an uncertain item is decided by one label and published as a human label event', async () => {
    const world = await reviewWorld(emulators);
    await queue(world, request('uncertain', 1));
    const { item } = await world.service.next(alice);
    world.advance(12);
    const outcome = await world.service.label(alice, item!.itemId, { leaseToken: item!.lease.token, label: 'dog' });
    expect(outcome).toEqual({ itemId: item!.itemId, kind: 'accepted', label: 'dog', votes: 1, agreement: 1 });
    expect(world.published).toEqual([
      expect.objectContaining({
        image_key: 'images/cam-day/cat/p0-00001.png',
        label: 'dog',
        label_source: 'human',
        reviewer_id: 'sub-alice',
        inference_id: 'inf-1',
        event_time: '2026-11-23T10:00:12.000Z',
      }),
    ]);
    expect(await world.store.counts()).toEqual({ pending: 0, disputed: 0 });
    expect((await world.store.get(item!.itemId))?.published).toBe(true);
    expect(world.metrics).toEqual(expect.arrayContaining([['LabelsAccepted', 1]]));
  });

  test('an audit item needs two agreeing reviewers; a disagreement goes to a third', async () => {
    const world = await reviewWorld(emulators);
    await queue(world, request('audit', 1));
    const a = await world.service.next(alice);
    expect(a.item).toMatchObject({ reason: 'audit', votes: 0, agreement: 2 });
    expect(
      await world.service.label(alice, a.item!.itemId, { leaseToken: a.item!.lease.token, label: 'cat' }),
    ).toMatchObject({
      kind: 'recorded',
      votes: 1,
    });
    expect(world.published).toEqual([]);
    expect((await world.service.next(alice)).item).toBeNull();
    const b = await world.service.next(bob);
    expect(b.item).toMatchObject({ itemId: a.item!.itemId, votes: 1 });
    expect(
      await world.service.label(bob, b.item!.itemId, { leaseToken: b.item!.lease.token, label: 'dog' }),
    ).toMatchObject({
      kind: 'recorded',
      votes: 2,
      auditAgreement: false,
    });
    expect(world.published).toEqual([]);
    const c = await world.service.next(carol);
    const settled = await world.service.label(carol, c.item!.itemId, { leaseToken: c.item!.lease.token, label: 'cat' });
    expect(settled).toMatchObject({ kind: 'accepted', label: 'cat', modelCorrect: true });
    expect(world.published).toEqual([expect.objectContaining({ label: 'cat', reviewer_id: 'sub-alice,sub-carol' })]);
    expect(world.metrics).toEqual(
      expect.arrayContaining([
        ['AuditAgreement', 0],
        ['AuditModelCorrect', 1],
      ]),
    );
  });

  test('"none of these": a new class joins the class list', async () => {
    const world = await reviewWorld(emulators);
    await queue(world, request('uncertain', 1));
    const { item } = await world.service.next(alice);
    const outcome = await world.service.label(alice, item!.itemId, {
      leaseToken: item!.lease.token,
      label: 'fox',
      newClass: true,
    });
    expect(outcome).toMatchObject({ kind: 'accepted', label: 'fox', newClass: 'fox' });
    expect((await world.service.classes()).classes).toEqual(['bird', 'cat', 'dog', 'fox']);
    expect(world.published[0]).toMatchObject({ label: 'fox' });
  });

  test('bad input is refused with one line and changes nothing', async () => {
    const world = await reviewWorld(emulators);
    await queue(world, request('uncertain', 1), request('uncertain', 2));
    const { item } = await world.service.next(alice);
    const id = item!.itemId;
    const other = (await world.service.next(bob)).item!;
    const before = await snapshot(world, [id, other.itemId]);
    const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
      [
        () => world.service.label(alice, id, { leaseToken: item!.lease.token, label: 'zebra' }),
        'bad-request',
        /unknown class "zebra"/,
      ],
      [() => world.service.label(alice, id, { leaseToken: 'token-old', label: 'cat' }), 'conflict', /stale lease/],
      [
        () => world.service.label(alice, other.itemId, { leaseToken: other.lease.token, label: 'cat' }),
        'forbidden',
        /not leased to you/,
      ],
      [
        () => world.service.label(alice, 'f'.repeat(24), { leaseToken: 'x', label: 'cat' }),
        'not-found',
        /no item f+ in the queue/,
      ],
      [() => world.service.label(alice, 'nope', { label: 'cat' }), 'bad-request', /item id must be 24 hexadecimal/],
      [() => world.service.label(alice, id, 'cat'), 'bad-request', /body must be a JSON object/],
      [() => world.service.skip(bob, id, { leaseToken: item!.lease.token }), 'forbidden', /not leased to you/],
    ];
    for (const [promise, code, message] of cases) {
      const error = await refusal(promise());
      expect([error.code, error.message]).toEqual([code, expect.stringMatching(message)]);
      expect(error.message).not.toContain('\n');
    }
    expect(await snapshot(world, [id, other.itemId])).toBe(before);
    expect(world.published).toEqual([]);
    world.advance(301);
    const expired = await refusal(world.service.label(alice, id, { leaseToken: item!.lease.token, label: 'cat' }));
    expect(expired.message).toMatch(/stale lease .* expired at 2026-11-23T10:05:00.000Z/);
    expect(await snapshot(world, [id, other.itemId])).toBe(before);
  });
});

describe('keeper', () => {
  test('a label whose event the stream refused is kept and published by the next tick', async () => {
    const world = await reviewWorld(emulators);
    await queue(world, request('uncertain', 1), request('uncertain', 2), request('uncertain', 3));
    const { item } = await world.service.next(alice);
    world.failPublishing(true);
    expect(
      await world.service.label(alice, item!.itemId, { leaseToken: item!.lease.token, label: 'cat' }),
    ).toMatchObject({
      kind: 'accepted',
    });
    expect(world.published).toEqual([]);
    world.failPublishing(false);
    expect(await world.service.tick()).toEqual({ pending: 2, disputed: 0, republished: 1, outcomesWritten: 0 });
    expect(world.published).toEqual([expect.objectContaining({ label: 'cat', inference_id: item!.inferenceId })]);
    expect(world.metrics).toEqual(
      expect.arrayContaining([
        ['QueueDepth', 2],
        ['DisputedItems', 0],
      ]),
    );
    expect(await world.service.tick()).toMatchObject({ republished: 0 });
  });

  test('an audit outcome the bucket refused stays on the decided item in the table and the next tick writes it once', async () => {
    const world = await reviewWorld(emulators);
    await queue(world, request('audit', 1), request('uncertain', 2));
    world.failOutcomes(true);
    for (const reviewer of [alice, bob]) {
      const { item } = await world.service.next(reviewer);
      expect(item).toMatchObject({ reason: 'audit' });
      await world.service.label(reviewer, item!.itemId, { leaseToken: item!.lease.token, label: 'dog' });
    }
    const [decided] = await collect(world.store.unpublished());
    expect(decided).toMatchObject({
      status: 'accepted',
      decision: { label: 'dog' },
      labelEventPublished: true,
      published: false,
    });
    expect(world.published).toHaveLength(1);
    expect(world.outcomes).toEqual([]);
    expect(await world.service.tick()).toMatchObject({ republished: 0, outcomesWritten: 0 });

    world.failOutcomes(false);
    expect(await world.service.tick()).toEqual({ pending: 1, disputed: 0, republished: 0, outcomesWritten: 1 });
    expect(await world.service.tick()).toMatchObject({ outcomesWritten: 0 });
    expect(await collect(world.store.unpublished())).toEqual([]);
    expect(world.outcomes.map((o) => o.record)).toEqual([
      { kind: 'label', time: '2026-11-23T09:59:00.000Z', modelVersion: 'unknown', predicted: 'cat', label: 'dog' },
    ]);
    const keys: string[] = [];
    for await (const key of world.artifacts.list(OUTCOMES.bucket, OUTCOMES.prefix)) keys.push(key);
    expect(keys).toEqual([`drift/outcomes/mlbp-sandbox-vision/2026/11/23/09/audit-${decided.itemId}.jsonl`]);
    expect(world.published).toHaveLength(1);
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
