/**
 * The served-slate record: one per `recommend` request, put on the event stream by the API and delivered to the
 * lake (`served_slate_events`). It carries the features each item was scored with, in contract order, so the
 * training dataset uses exactly what was served. Schema: `SERVED_SLATE_SCHEMA` in `core/contracts/events.ts`.
 */
import { eventValidator, SERVED_SLATE_SCHEMA } from '../contracts/events';
import type { CandidateSource } from './candidates';
import { vectorProblem } from './contract';
import { issuesText } from '../contracts/issues';

/** `record_type` of a slate on the stream (interactions carry none). */
export const SLATE_RECORD_TYPE = 'served_slate';

/** One served item. */
export interface SlateItem {
  readonly item_id: string;
  readonly position: number;
  readonly score: number;
  readonly source: CandidateSource;
  readonly features: readonly number[];
}

/** A served slate, as logged. */
export interface ServedSlate {
  readonly record_type: typeof SLATE_RECORD_TYPE;
  readonly inference_id: string;
  readonly event_time: string;
  readonly user_id: string;
  readonly surface: string;
  readonly device?: string;
  readonly model_version: string;
  readonly feature_version: number;
  readonly fallback: boolean;
  readonly fallback_reason?: string;
  readonly candidates: number;
  readonly items: readonly SlateItem[];
}

const validate = eventValidator(SERVED_SLATE_SCHEMA);

/** Whether a parsed stream record claims to be a slate (then it is validated as one). */
export function isSlateRecord(json: unknown): boolean {
  return (
    typeof json === 'object' && json !== null && (json as Record<string, unknown>).record_type === SLATE_RECORD_TYPE
  );
}

/** Validates a slate: the schema, then the contract (width and finiteness of every vector, positions in order). */
export function validateSlate(json: unknown): { ok: true; slate: ServedSlate } | { ok: false; detail: string } {
  const parsed = validate.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      detail: issuesText(parsed.error, '(slate)'),
    };
  }
  const slate = parsed.data as unknown as ServedSlate;
  for (const [i, item] of slate.items.entries()) {
    const problem = vectorProblem(item.features, slate.feature_version);
    if (problem) return { ok: false, detail: `items.${i}.features: ${problem}` };
    if (item.position !== i) return { ok: false, detail: `items.${i}.position: ${item.position}; expected ${i}` };
  }
  if (slate.fallback !== (slate.model_version === 'fallback')) {
    return { ok: false, detail: `fallback is ${slate.fallback} but model_version is "${slate.model_version}"` };
  }
  return { ok: true, slate };
}
