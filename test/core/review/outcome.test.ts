/**
 * Audit outcomes: an accepted audit item becomes one outcome record for the drift checker (exact fields, a
 * deterministic key in the hour of the prediction); disputed, uncertain and conflict items write none; a failed write
 * keeps the decision and the keeper writes it later, once; the record is what the checker reads as accuracy.
 */
import { DEFAULT_QUALITY_SETTINGS, readOutcomes } from '../../../core/drift/checker-quality';
import { parseOutcomeLine } from '../../../core/drift/quality';
import {
  auditOutcome,
  auditOutcomeKey,
  objectStoreOutcomeWriter,
  OUTCOMES_PREFIX,
  UNKNOWN_MODEL_VERSION,
  type AuditOutcome,
} from '../../../core/review/outcome';
import { DEFAULT_REVIEW_POLICY } from '../../../core/review/policy';
import { parseReviewRequest, type ReviewRequest } from '../../../core/review/request';
import { ReviewService, type ReviewMetric, type Reviewer } from '../../../core/review/service';
import { MemoryObjectStore, readText } from '../../../core/storage/object-store';
import { selectForReview, type LoggedPrediction } from '../../../core/vision/active-learning';
import { item, request, T0 } from './fixtures';
import { MemoryReviewStore } from './memory-store';

const DESTINATION = { bucket: 'artifacts', prefix: OUTCOMES_PREFIX, endpointName: 'mlbp-sandbox-vision' };
const alice: Reviewer = { id: 'sub-alice', name: 'alice' };
const bob: Reviewer = { id: 'sub-bob', name: 'bob' };
const carol: Reviewer = { id: 'sub-carol', name: 'carol' };

/** A service over memory: the store, an artifacts bucket, the label events and outcome writes, failures on demand. */
function world() {
  const store = new MemoryReviewStore();
  const artifacts = new MemoryObjectStore();
  const write = objectStoreOutcomeWriter(artifacts, DESTINATION);
  const published: Array<Record<string, unknown>> = [];
  const written: AuditOutcome[] = [];
  const metrics: Array<[ReviewMetric, number]> = [];
  const failing = { publish: false, outcomes: false };
  let tokens = 0;
  const service = new ReviewService(
    {
      store,
      publish: async (events) => {
        if (failing.publish) throw new Error('stream unavailable');
        published.push(...events);
      },
      writeOutcome: async (outcome) => {
        if (failing.outcomes) throw new Error('artifacts bucket unavailable');
        await write(outcome);
        written.push(outcome);
      },
      presign: async (key) => `http://images.test/${key}`,
      now: () => T0,
      newToken: () => `token-${++tokens}`,
      metric: (name, value) => metrics.push([name, value]),
    },
    { imagesPrefix: 'images/', policy: DEFAULT_REVIEW_POLICY },
  );
  const count = (name: ReviewMetric) => metrics.filter(([n]) => n === name).reduce((s, [, v]) => s + v, 0);
  return { store, artifacts, service, published, written, failing, count };
}

type World = ReturnType<typeof world>;

/** Each reviewer in turn takes the next item and labels it. */
async function vote(w: World, votes: ReadonlyArray<[Reviewer, string]>): Promise<string> {
  let itemId = '';
  for (const [reviewer, label] of votes) {
    const next = await w.service.next(reviewer);
    if (!next.item) throw new Error(`nothing for ${reviewer.name}`);
    itemId = next.item.itemId;
    await w.service.label(reviewer, itemId, { leaseToken: next.item.lease.token, label });
  }
  return itemId;
}

const audit = (overrides: Partial<ReviewRequest> = {}): ReviewRequest => ({
  ...request('audit', 7),
  predictedAt: '2026-11-22T23:41:07.250Z',
  modelVersion: 'vision-20261120-0412',
  ...overrides,
});

async function objects(store: MemoryObjectStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const key of store.list(DESTINATION.bucket, '')) {
    const object = await store.get(DESTINATION.bucket, key);
    out[key] = object ? await readText(object) : '';
  }
  return out;
}

describe('an accepted audit item', () => {
  test('writes one outcome record: exact fields, the key in the UTC hour of the prediction', async () => {
    const w = world();
    await w.service.intake(audit());
    const itemId = await vote(w, [
      [alice, 'dog'],
      [bob, 'dog'],
    ]);
    const key = `drift/outcomes/mlbp-sandbox-vision/2026/11/22/23/audit-${itemId}.jsonl`;
    expect(await objects(w.artifacts)).toEqual({
      [key]:
        '{"kind":"label","time":"2026-11-22T23:41:07.250Z","modelVersion":"vision-20261120-0412","predicted":"cat","label":"dog"}\n',
    });
    const stored = await w.store.get(itemId);
    expect(stored).toMatchObject({
      status: 'accepted',
      decision: { label: 'dog' },
      labelEventPublished: true,
      outcomeWritten: true,
      published: true,
    });
    expect(w.count('AuditOutcomesWritten')).toBe(1);
    expect(w.count('AuditOutcomesUnattributed')).toBe(0);
    expect(w.published).toHaveLength(1);
  });

  test('settled by a third reviewer after a disagreement: the accepted label, not the first vote', async () => {
    const w = world();
    await w.service.intake(audit());
    await vote(w, [
      [alice, 'cat'],
      [bob, 'dog'],
      [carol, 'cat'],
    ]);
    expect(w.written.map((o) => o.record)).toEqual([
      {
        kind: 'label',
        time: '2026-11-22T23:41:07.250Z',
        modelVersion: 'vision-20261120-0412',
        predicted: 'cat',
        label: 'cat',
      },
    ]);
  });

  test('without a model version the record says "unknown" (counted): the checker leaves it out of accuracy', async () => {
    const w = world();
    await w.service.intake(audit({ modelVersion: undefined }));
    await vote(w, [
      [alice, 'dog'],
      [bob, 'dog'],
    ]);
    expect(w.written.map((o) => o.record.modelVersion)).toEqual([UNKNOWN_MODEL_VERSION]);
    expect(w.count('AuditOutcomesUnattributed')).toBe(1);
    const read = await readOutcomes(w.artifacts, DESTINATION.bucket, 'drift/outcomes/mlbp-sandbox-vision/', {
      start: new Date('2026-11-22T23:00:00.000Z'),
      end: new Date('2026-11-23T00:00:00.000Z'),
    });
    expect(read).toEqual({ observations: [], invalid: {} });
  });
});

describe('items without an outcome', () => {
  test('a disputed audit item (three different labels) writes none', async () => {
    const w = world();
    await w.service.intake(audit());
    const itemId = await vote(w, [
      [alice, 'cat'],
      [bob, 'dog'],
      [carol, 'bird'],
    ]);
    expect((await w.store.get(itemId))?.status).toBe('disputed');
    expect(w.written).toEqual([]);
    expect(await objects(w.artifacts)).toEqual({});
    expect(await w.service.tick()).toMatchObject({ disputed: 1, outcomesWritten: 0 });
  });

  test('accepted uncertain and conflict items write none (not a random sample) and are settled by their label event', async () => {
    const w = world();
    await w.service.intake(request('uncertain', 1));
    await w.service.intake({
      ...request('conflict', 2),
      inferenceId: undefined,
      predictedAt: undefined,
      topK: [],
      labels: [
        { label: 'cat', source: 'prefix' },
        { label: 'dog', source: 'labels-file' },
      ],
    });
    await vote(w, [[alice, 'dog']]);
    await vote(w, [
      [bob, 'dog'],
      [carol, 'dog'],
    ]);
    expect(w.published).toHaveLength(2);
    expect(w.written).toEqual([]);
    for (const stored of w.store.items.values()) {
      expect(stored).toMatchObject({ status: 'accepted', published: true });
      expect(stored.outcomeWritten).toBeUndefined();
    }
    expect(() => auditOutcome({ ...item('uncertain'), status: 'accepted' })).toThrow(/not an accepted audit item/);
  });
});

describe('a failed write', () => {
  test('keeps the decision; the keeper writes the outcome later, exactly once', async () => {
    const w = world();
    await w.service.intake(audit());
    w.failing.outcomes = true;
    const itemId = await vote(w, [
      [alice, 'dog'],
      [bob, 'dog'],
    ]);
    expect(await w.store.get(itemId)).toMatchObject({
      status: 'accepted',
      decision: { label: 'dog', reviewers: ['sub-alice', 'sub-bob'] },
      labelEventPublished: true,
      published: false,
    });
    expect((await w.store.get(itemId))?.outcomeWritten).toBeUndefined();
    expect(w.count('AuditOutcomesPending')).toBe(1);
    expect(await w.service.tick()).toMatchObject({ republished: 0, outcomesWritten: 0 });
    expect(w.count('AuditOutcomesPending')).toBe(2);

    w.failing.outcomes = false;
    expect(await w.service.tick()).toMatchObject({ republished: 0, outcomesWritten: 1 });
    expect(await w.service.tick()).toMatchObject({ republished: 0, outcomesWritten: 0 });
    expect(w.written).toHaveLength(1);
    expect(Object.keys(await objects(w.artifacts))).toEqual([
      `drift/outcomes/mlbp-sandbox-vision/2026/11/22/23/audit-${itemId}.jsonl`,
    ]);
    // The label event went out once, with the decision; the keeper did not publish it again.
    expect(w.published).toHaveLength(1);
    expect(await w.store.get(itemId)).toMatchObject({ outcomeWritten: true, published: true });
  });

  test('a refused label event is retried alone: the written outcome is not written again', async () => {
    const w = world();
    await w.service.intake(audit());
    w.failing.publish = true;
    const itemId = await vote(w, [
      [alice, 'dog'],
      [bob, 'dog'],
    ]);
    expect(await w.store.get(itemId)).toMatchObject({ outcomeWritten: true, published: false });
    expect((await w.store.get(itemId))?.labelEventPublished).toBeUndefined();
    w.failing.publish = false;
    expect(await w.service.tick()).toMatchObject({ republished: 1, outcomesWritten: 0 });
    expect(w.written).toHaveLength(1);
    expect(w.published).toHaveLength(1);
    expect(await w.store.get(itemId)).toMatchObject({ published: true });
  });

  test('both refused: the keeper does both, then the item leaves the scan', async () => {
    const w = world();
    await w.service.intake(audit());
    w.failing.publish = w.failing.outcomes = true;
    await vote(w, [
      [alice, 'dog'],
      [bob, 'dog'],
    ]);
    w.failing.publish = w.failing.outcomes = false;
    expect(await w.service.tick()).toMatchObject({ republished: 1, outcomesWritten: 1 });
    expect(await w.service.tick()).toMatchObject({ republished: 0, outcomesWritten: 0 });
    expect([w.published.length, w.written.length]).toEqual([1, 1]);
  });
});

describe('what the drift checker reads', () => {
  test('the records parse as label outcomes and make the window’s accuracy', async () => {
    const w = world();
    // Three audits served in the 23:00 hour (the model said "cat" each time), one the hour after.
    for (const [n, minute] of [
      [1, '05'],
      [2, '30'],
      [3, '59'],
      [4, '75'],
    ] as const) {
      const at = Number(minute) < 60 ? `2026-11-22T23:${minute}:00.000Z` : '2026-11-23T00:15:00.000Z';
      await w.service.intake(audit({ ...request('audit', n), predictedAt: at, modelVersion: 'v3' }));
    }
    for (const label of ['cat', 'dog', 'cat', 'cat']) {
      await vote(w, [
        [alice, label],
        [bob, label],
      ]);
    }
    for (const [key, body] of Object.entries(await objects(w.artifacts))) {
      const parsed = parseOutcomeLine(body.trimEnd());
      expect(parsed).toMatchObject({ kind: 'label', modelVersion: 'v3', predicted: 'cat' });
      if (typeof parsed === 'string') throw new Error(parsed);
      expect(key).toContain(new Date(parsed.timeMs).toISOString().slice(0, 13).replace(/[-T]/g, '/'));
    }
    const hour = await readOutcomes(w.artifacts, DESTINATION.bucket, 'drift/outcomes/mlbp-sandbox-vision/', {
      start: new Date('2026-11-22T23:00:00.000Z'),
      end: new Date('2026-11-23T00:00:00.000Z'),
    });
    // Items are decided in queue order (ties by item id), so which one was "dog" depends on the ids: count.
    const inHour = w.written.filter((o) => o.record.time.startsWith('2026-11-22T23'));
    const correct = inHour.filter((o) => o.record.label === o.record.predicted).length;
    expect(inHour).toHaveLength(3);
    expect(hour).toEqual({
      observations: [{ name: 'accuracy', current: { kind: 'proportion', successes: correct, trials: 3 } }],
      invalid: {},
    });
    const both = await readOutcomes(w.artifacts, DESTINATION.bucket, 'drift/outcomes/mlbp-sandbox-vision/', {
      start: new Date('2026-11-22T23:00:00.000Z'),
      end: new Date('2026-11-23T01:00:00.000Z'),
    });
    expect(both.observations).toEqual([{ name: 'accuracy', current: { kind: 'proportion', successes: 3, trials: 4 } }]);
  });

  test('the prefix is the checker’s default outcomes prefix', () => {
    expect(OUTCOMES_PREFIX).toBe(DEFAULT_QUALITY_SETTINGS.outcomesPrefix);
  });

  test('the key is deterministic: the hour of the prediction in UTC, the item id', () => {
    const outcome = auditOutcome({
      ...item('audit', 3),
      status: 'accepted',
      decision: { label: 'dog', newClass: false, at: T0.toISOString(), reviewers: ['a', 'b'] },
    });
    const key = auditOutcomeKey('drift/outcomes/', 'ep', outcome);
    expect(key).toBe(`drift/outcomes/ep/2026/11/23/09/audit-${item('audit', 3).itemId}.jsonl`);
    expect(auditOutcomeKey('drift/outcomes/', 'ep', outcome)).toBe(key);
  });
});

describe('model versions of review requests', () => {
  test('a request may name the model version (a short string); anything else is refused with one line', () => {
    expect(parseReviewRequest(audit(), 'images/').modelVersion).toBe('vision-20261120-0412');
    expect(parseReviewRequest(audit({ modelVersion: undefined }), 'images/').modelVersion).toBeUndefined();
    for (const bad of ['', 'has space', 'x'.repeat(129), '-leading']) {
      expect(() => parseReviewRequest(audit({ modelVersion: bad }), 'images/')).toThrow(
        /^invalid review request: modelVersion: must be a model version/,
      );
    }
  });

  test('active learning carries a logged model version into the requests, and none when the log has none', () => {
    const record = (n: number, version?: string): LoggedPrediction => ({
      inference_id: `inf-${n}`,
      image_key: `images/a/${n}.png`,
      content_type: 'image/png',
      size_bytes: 100,
      predicted_at: '2026-11-22T10:00:00.000Z',
      top_k: [
        { label: 'cat', confidence: 0.6 },
        { label: 'dog', confidence: 0.4 },
      ],
      margin: 0.8,
      entropy: 0.9,
      ...(version ? { model_version: version } : {}),
    });
    const policy = { dailyBudget: 10, auditShare: 0.5, auditSalt: 'salt', method: 'margin' as const };
    const selection = selectForReview([record(1, 'v3'), record(2, 'v3'), record(3), record(4)], policy);
    expect(selection.requests).toHaveLength(4);
    for (const r of selection.requests) {
      expect(r.modelVersion).toBe(['inf-1', 'inf-2'].includes(r.inferenceId ?? '') ? 'v3' : undefined);
      expect(parseReviewRequest(r, 'images/')).toEqual(r);
    }
  });
});
