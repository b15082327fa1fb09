/**
 * Retraining loop, after a deployment: the references the new model is judged against from now on, so that it is
 * compared with what it replaced rather than with its own past (`core/drift/ctr-baseline.ts` writes them):
 *
 * - **realised quality** (`quality.json`): the replaced champion's CTR, nDCG@10 or audit accuracy over the drift
 *   checker's last judged windows;
 * - **CTR** (`ctr.json`, when the case study counts CTR per model version): the replaced champion's CTR over its
 *   last buckets before the deployment, or — for a first model, which replaced the popularity fallback — the new
 *   model's CTR during its canary (the buckets up to now, the current one included).
 *
 * A model version is the training job's name (what the model's metadata says it is, `model_version`). Nothing is
 * written when there is nothing honest to write (no champion and no canary traffic, no judged window): the previous
 * references then stay, and without any the checker falls back to the preceding windows and says so.
 */
import { z } from 'zod';
import { writeCtrBaseline, writeQualityBaseline, type CtrBucketCounts } from '../drift/ctr-baseline';
import type { ObjectStore } from '../storage/object-store';
import { issueText } from '../contracts/issues';

/** What the `WriteReferences` step receives. */
export const referencesInputSchema = z.object({
  artifactsBucket: z.string().min(1),
  endpointName: z.string().min(1),
  /** The drift checker's state prefix. */
  statePrefix: z.string().default('drift/state/'),
  /** The champion the run found (the model the endpoint served before this deployment). */
  champion: z.object({ found: z.boolean(), metadata: z.record(z.string(), z.string()).optional() }).loose(),
  /** The deployed model's version (its training job's name). */
  modelVersion: z.string().min(1),
  /** Judged quality windows pooled into the quality reference. */
  qualityWindows: z.number().int().positive().default(24),
  /** CTR buckets summed into the CTR reference (the replaced champion's). */
  ctrWindows: z.number().int().positive().default(24),
});

/** Input of {@link writeDeployReferences}. */
export type ReferencesInput = z.input<typeof referencesInputSchema>;

/** The CTR counters of the case study, when it has them. */
export interface CtrCounters {
  /** Length of a CTR bucket in minutes. */
  readonly bucketMinutes: number;
  ctrCounts(bucket: number): Promise<readonly CtrBucketCounts[]>;
}

/** What was written (`$.references`): each reference's key and source, or why none was written. */
export interface ReferencesResult {
  readonly ctr: { readonly written: boolean; readonly detail: string };
  readonly quality: { readonly written: boolean; readonly detail: string };
}

/** The replaced champion's model version: its package's `trainingJobName` metadata. */
function replacedVersion(champion: z.infer<typeof referencesInputSchema>['champion']): string | undefined {
  return champion.found ? champion.metadata?.trainingJobName : undefined;
}

/** Writes the CTR and quality references of the model just deployed. */
export async function writeDeployReferences(
  store: ObjectStore,
  counters: CtrCounters | undefined,
  raw: ReferencesInput,
  now: Date,
): Promise<ReferencesResult> {
  const parsed = referencesInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`invalid references input: ${issueText(parsed.error.issues[0], 'the payload')}`);
  }
  const input = parsed.data;
  const replaced = replacedVersion(input.champion);
  const base = { artifactsBucket: input.artifactsBucket, endpointName: input.endpointName };

  let ctr: ReferencesResult['ctr'] = { written: false, detail: 'the case study counts no CTR per model version' };
  if (counters) {
    const bucketMs = counters.bucketMinutes * 60_000;
    const written = replaced
      ? await writeCtrBaseline(counters, store, {
          ...base,
          modelVersion: replaced,
          source: 'champion',
          end: now,
          windows: input.ctrWindows,
          bucketMinutes: counters.bucketMinutes,
        })
      : // The canary's buckets: the last complete one and the current one.
        await writeCtrBaseline(counters, store, {
          ...base,
          modelVersion: input.modelVersion,
          source: 'canary',
          end: new Date(Math.floor(now.getTime() / bucketMs) * bucketMs + bucketMs),
          windows: 2,
          bucketMinutes: counters.bucketMinutes,
        });
    ctr = written
      ? {
          written: true,
          detail: `CTR of ${written.modelVersion} (${written.source}): ${written.clicks} clicks / ${written.impressions} impressions, ${written.from} to ${written.to}`,
        }
      : {
          written: false,
          detail: replaced
            ? `the replaced champion ${replaced} had no impressions in the last ${input.ctrWindows} buckets: the previous CTR reference stays`
            : `no champion was replaced and ${input.modelVersion} has no canary traffic yet: the previous CTR reference stays`,
        };
  }

  let quality: ReferencesResult['quality'];
  if (!replaced) {
    quality = {
      written: false,
      detail: input.champion.found
        ? 'the replaced champion names no training job: the previous quality reference stays'
        : 'no model served before (the fallback is not a model): the checker pools the preceding windows',
    };
  } else {
    const baseline = await writeQualityBaseline(store, {
      ...base,
      statePrefix: input.statePrefix,
      modelVersion: replaced,
      windows: input.qualityWindows,
      now,
    });
    quality = baseline
      ? { written: true, detail: `realised quality of ${replaced}: ${baseline.source}` }
      : { written: false, detail: `no judged quality window of ${replaced} yet: the previous quality reference stays` };
  }
  return { ctr, quality };
}
