/**
 * The plan of one retraining run, derived from the execution and its trigger: runtime names (from the execution
 * name), the dataset ID and window, and the lock's expiry. Pure: no AWS, no clock (the start time is an input).
 */
import { z } from 'zod';
import { issuesText } from '../contracts/issues';

/** Why a run started. */
export const triggerSchema = z.strictObject({
  kind: z.enum(['drift', 'schedule', 'manual']),
  reason: z.string().min(1).max(1000),
  requestedBy: z.string().max(200).optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

/** Why a run started (execution input `trigger`). */
export type Trigger = z.infer<typeof triggerSchema>;

/** What the plan step receives. */
export const planInputSchema = z.strictObject({
  executionName: z.string().min(1).max(80),
  startTime: z.string().min(1),
  /** The execution input; its `trigger` says why the run started (none counts as a manual run). */
  input: z.unknown().optional(),
  namePrefix: z.string().regex(/^[a-zA-Z0-9-]{1,30}$/),
  datasetDays: z.number().int().positive(),
  lockTtlHours: z.number().positive(),
});

/** Input of {@link planRun}. */
export type PlanInput = z.infer<typeof planInputSchema>;

/** The plan every later state reads (`$.run`). */
export interface RunPlan {
  /** Stamped on the dataset prefix, training job, model package and model: the execution name. */
  readonly datasetId: string;
  readonly trigger: Trigger;
  /** Runtime names (SageMaker: at most 63 characters, letters, digits, hyphens). */
  readonly trainingJobName: string;
  readonly modelName: string;
  readonly endpointConfigName: string;
  /** Batch-transform jobs that re-score the candidate and the champion on the validation data. */
  readonly candidateScoringJobName: string;
  readonly championScoringJobName: string;
  /** The dataset covers events in (windowStart, windowEnd]. */
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Epoch seconds, as strings (DynamoDB numbers in Step Functions are strings). */
  readonly lockNow: string;
  readonly lockExpiresAt: string;
}

/** SageMaker names: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`. */
export function sageMakerName(prefix: string, id: string, maxLength = 63): string {
  const clean = id
    .replace(/[^a-zA-Z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const name = `${prefix}-${clean}`.slice(0, maxLength).replace(/-+$/, '');
  return name;
}

/** Normalizes the trigger; an absent or malformed trigger fails with what was received. */
export function parseTrigger(raw: unknown): Trigger {
  if (raw === undefined || raw === null) return { kind: 'manual', reason: 'started without a trigger' };
  const parsed = triggerSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `execution input trigger is invalid (${issuesText(parsed.error, 'trigger')}); received ${JSON.stringify(raw).slice(0, 300)}`,
    );
  }
  return parsed.data;
}

/** Derives the run plan. */
export function planRun(input: PlanInput): RunPlan {
  const start = new Date(input.startTime);
  if (Number.isNaN(start.getTime())) throw new Error(`startTime is not a valid time: ${input.startTime}`);
  const executionInput = input.input;
  const trigger = parseTrigger(
    typeof executionInput === 'object' && executionInput !== null && !Array.isArray(executionInput)
      ? (executionInput as Record<string, unknown>).trigger
      : undefined,
  );
  // Training job names allow 63 characters; a retry appends "-<n>", so keep 60.
  const trainingJobName = sageMakerName(input.namePrefix, input.executionName, 60);
  const windowStart = new Date(start.getTime() - input.datasetDays * 86_400_000);
  const now = Math.floor(start.getTime() / 1000);
  return {
    datasetId: input.executionName,
    trigger,
    trainingJobName,
    modelName: sageMakerName(input.namePrefix, input.executionName),
    endpointConfigName: sageMakerName(input.namePrefix, input.executionName),
    candidateScoringJobName: `${sageMakerName(input.namePrefix, input.executionName, 58)}-cand`,
    championScoringJobName: `${sageMakerName(input.namePrefix, input.executionName, 58)}-chmp`,
    windowStart: windowStart.toISOString(),
    windowEnd: start.toISOString(),
    lockNow: String(now),
    lockExpiresAt: String(now + Math.round(input.lockTtlHours * 3600)),
  };
}
