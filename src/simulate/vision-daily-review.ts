/**
 * The vision system's daily review in the simulation: the synthesized `DailyReview` state machine, executed by the
 * local world on its definition. Its function's steps (plan the backfill, record it, select for review) run the real
 * job code (`core/vision/daily-review.ts`) on the local S3 with the function's own environment; `FindServedModel`
 * asks the local hosting which model the inference component serves; the `Backfill` is the local SageMaker's batch
 * transform with that model. The review requests the job sends to the queue are returned for the reviewers.
 */
import type { ReviewRequest } from '../../core/review/request';
import {
  dailyReviewSettingsFromEnv,
  runDailyReviewStep,
  type DailyReviewSettings,
  type DailyReviewStep,
} from '../../core/vision/daily-review';
import { resolveIntrinsics } from '../local-world/intrinsics';
import type { Json, ModelRuntime } from '../local-world/types';
import type { LocalWorld, RunRecord } from '../local-world/world';

/** The synthesized daily review: its definition and its function. */
export interface DailyReviewMachine {
  /** The state machine's definition, intrinsics resolved by the local world's resolver. */
  readonly definition: Json;
  /** Logical ID of the job's function (the Task resources name it). */
  readonly functionId: string;
  /** The function's settings, parsed from its environment in the template. */
  readonly settings: DailyReviewSettings;
}

type Resources = Record<string, { Type: string; Properties?: Json }>;

/** The daily review of a vision ML stack's template; throws one line if the template has none. */
export function dailyReviewMachine(template: { Resources?: unknown }): DailyReviewMachine {
  const resources = (template.Resources ?? {}) as Resources;
  const types = Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.Type]));
  const of = (type: string, fragment: string) => {
    const found = Object.entries(resources).filter(([id, r]) => r.Type === type && id.includes(fragment));
    if (found.length !== 1) {
      throw new Error(`the vision ML stack must hold one ${type} named *${fragment}*; found ${found.length}`);
    }
    return found[0];
  };
  const [, machine] = of('AWS::StepFunctions::StateMachine', 'DailyReviewStateMachine');
  const [functionId, fn] = of('AWS::Lambda::Function', 'DailyReviewFunction');
  const definition = JSON.parse(String(resolveIntrinsics(machine.Properties?.DefinitionString, { types }))) as Json;
  const variables = ((fn.Properties?.Environment as Json | undefined)?.Variables ?? {}) as Json;
  const env = resolveIntrinsics(variables, { types }) as Record<string, string>;
  return { definition, functionId, settings: dailyReviewSettingsFromEnv(env) };
}

/** One day's review run. */
export interface DailyReviewRun {
  readonly record: RunRecord;
  /** What the job sent to the reviewers' queue. */
  readonly requests: readonly ReviewRequest[];
  /** The backfill's batch transform, when one ran. */
  readonly transformJob?: string;
  /** The backfill's plan (`$.backfill`) and record (`$.recorded`), and the selection (`$.selection`). */
  readonly output: {
    readonly backfill?: { readonly images?: number };
    readonly recorded?: { readonly predictions?: number; readonly missing?: readonly unknown[] };
    readonly selection?: {
      readonly considered?: number;
      readonly audit?: number;
      readonly uncertain?: number;
      readonly overBudget?: number;
    };
    readonly backfillError?: { readonly Error?: string; readonly Cause?: string };
  };
}

/** Runs the daily review of `day` (the execution's input names it, as an operator's re-run does). */
export async function runDailyReview(
  world: LocalWorld,
  machine: DailyReviewMachine,
  options: { readonly day: string; readonly execution: string; readonly models: ModelRuntime },
): Promise<DailyReviewRun> {
  const requests: ReviewRequest[] = [];
  const record = await world.run(machine.definition, {
    execution: options.execution,
    stateMachineName: 'daily-review',
    input: { day: options.day },
    models: options.models,
    functions: {
      [machine.functionId]: (event) =>
        runDailyReviewStep(
          world.store,
          machine.settings,
          event as unknown as DailyReviewStep,
          async (sent) => {
            requests.push(...sent);
          },
          () => world.clock.now(),
        ),
    },
  });
  if (record.status !== 'SUCCEEDED') {
    throw new Error(
      `the daily review of ${options.day} failed: ${record.cause?.message ?? record.error?.message ?? 'unknown'}; path: ${record.visited.join(' → ')}`,
    );
  }
  const transform = record.calls.find((c) => c.state === 'Backfill');
  return {
    record,
    requests,
    ...(transform ? { transformJob: String(transform.input.TransformJobName) } : {}),
    output: (record.output ?? {}) as DailyReviewRun['output'],
  };
}
