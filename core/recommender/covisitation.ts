/**
 * Loading the co-visitation job's output where the `recommend` API reads it: the `UNLOAD` writes JSON lines
 * `{"item_id", "neighbours": [...], "strengths": [...]}` (`sql.ts`, `coVisitationQuery`); each becomes the item's
 * neighbour list in the feature store (`n#<item>`), replacing the previous one. Lines that do not parse are counted
 * and reported, never silently dropped. No AWS imports.
 */
import { readBytes, type ObjectStore } from '../storage/object-store';
import { parseS3Uri } from '../storage/s3-uri';
import type { FeatureStore, NeighbourList } from './feature-store';

/** What a load did. */
export interface CoVisitationLoad {
  readonly files: number;
  readonly items: number;
  readonly neighbours: number;
  /** Lines that did not parse, with the reason (at most 20 kept). */
  readonly rejected: number;
  readonly rejections: string[];
}

/** Parses one output line; the reason when it is not a neighbour list. */
export function parseNeighbourLine(line: string): { ok: true; list: NeighbourList } | { ok: false; reason: string } {
  let json: { item_id?: unknown; neighbours?: unknown; strengths?: unknown };
  try {
    json = JSON.parse(line) as typeof json;
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
  const { item_id: itemId, neighbours, strengths } = json;
  if (typeof itemId !== 'string' || itemId === '') return { ok: false, reason: 'item_id is not a non-empty string' };
  if (!Array.isArray(neighbours) || !Array.isArray(strengths) || neighbours.length !== strengths.length) {
    return { ok: false, reason: `${itemId}: neighbours and strengths must be arrays of the same length` };
  }
  const list = neighbours.map((n, i) => ({ itemId: String(n), strength: Number(strengths[i]) }));
  if (list.some((n) => n.itemId === '' || !Number.isFinite(n.strength) || n.strength <= 0)) {
    return { ok: false, reason: `${itemId}: a neighbour without an id or with a non-positive strength` };
  }
  return { ok: true, list: { itemId, neighbours: list } };
}

/** Loads every output file under `uri` into the feature store in batches. */
export async function loadCoVisitation(
  store: ObjectStore,
  features: Pick<FeatureStore, 'putNeighbours'>,
  input: { readonly uri: string; readonly datasetId: string; readonly expiresAt: number; readonly batchSize?: number },
): Promise<CoVisitationLoad> {
  const { bucket, key } = parseS3Uri(input.uri.endsWith('/') ? input.uri : `${input.uri}/`);
  const rejections: string[] = [];
  let rejected = 0;
  let files = 0;
  let items = 0;
  let neighbours = 0;
  let batch: NeighbourList[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await features.putNeighbours(batch, input.datasetId, input.expiresAt);
    batch = [];
  };
  for await (const k of store.list(bucket, key)) {
    if (/(^|\/)[._][^/]*$/.test(k.slice(key.length))) continue;
    files++;
    const text = (await readBytes(store, bucket, k)).toString('utf8');
    for (const line of text.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      const parsed = parseNeighbourLine(line);
      if (!parsed.ok) {
        rejected++;
        if (rejections.length < 20) rejections.push(`${k}: ${parsed.reason}`);
        continue;
      }
      items++;
      neighbours += parsed.list.neighbours.length;
      batch.push(parsed.list);
      if (batch.length >= (input.batchSize ?? 500)) await flush();
    }
  }
  await flush();
  return { files, items, neighbours, rejected, rejections };
}
