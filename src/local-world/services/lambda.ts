/**
 * Lambda: the loop's functions run their real core logic (plan, manifests, evaluation, baseline, references), chosen by the
 * function's name (its logical ID locally). Both integrations: the function ARN as the Task resource (the payload
 * is the input and the output) and `lambda:invoke` (`FunctionName`, `Payload`; the result in `Payload`). A test
 * may deploy other code for a function (e.g. a fixed manifest result).
 */
import { runEvaluation, type EvaluationRequest } from '../../../core/retraining/evaluate';
import { loadCoVisitation } from '../../../core/recommender/covisitation';
import type { FeatureStore } from '../../../core/recommender/feature-store';
import {
  RANKING_SOURCE_KIND,
  runRecommenderEvaluation,
  type LoopEvaluationRequest as RecommenderLoopRequest,
} from '../../../core/recommender/promotion';
import { buildManifests, type ManifestInput } from '../../../core/retraining/manifests';
import { parseS3Uri } from '../../../core/storage/s3-uri';
import { refreshBaseline, type BaselineInput } from '../../../core/retraining/baseline';
import { writeDeployReferences, type CtrCounters, type ReferencesInput } from '../../../core/retraining/references';
import { planInputSchema, planRun } from '../../../core/retraining/plan';
import { refreshVisionBaseline, type VisionBaselineInput } from '../../../core/vision/baseline';
import { fromLoopRequest, runVisionEvaluation, type LoopEvaluationRequest } from '../../../core/vision/promotion';
import { prepareVisionTraining, type VisionTrainingInputRequest } from '../../../core/vision/training-input';
import type { ImageLimits } from '../../../core/vision/image-stats';
import { TaskError, UNSUPPORTED_CALL } from '../errors';
import type { CallContext, Json, LambdaCode, ServiceHandlers, WorldContext } from '../types';

/** Which baseline builder the Baseline function runs, and its image limits. */
export interface LoopFunctionsOptions {
  readonly caseStudy: 'recommender' | 'vision';
  /** Vision: limits of the baseline builder's image reads. @default 5 MiB, 25 Mpx */
  readonly imageLimits?: ImageLimits;
  /** Vision: level of McNemar's test (the evaluate function's `PROMOTION_ALPHA`). @default 0.05 */
  readonly alpha?: number;
  /** Recommender: where the co-visitation load writes neighbour lists. @default parsed and counted only */
  readonly featureStore?: Pick<FeatureStore, 'putNeighbours'>;
  /** Recommender: the CTR counters the references writer reads. @default none (quality reference only) */
  readonly ctrCounters?: CtrCounters;
}

/** The loop's functions, by a fragment of their name. */
export function loopFunctions(world: WorldContext, o: LoopFunctionsOptions): Record<string, LambdaCode> {
  return {
    Plan: (i) => planRun(planInputSchema.parse(i)),
    Evaluate: async (i) => {
      const evaluation =
        o.caseStudy === 'vision'
          ? await runVisionEvaluation(
              world.store,
              fromLoopRequest(i as unknown as LoopEvaluationRequest, o.alpha ?? 0.05),
            )
          : (i as { scoring?: { candidate?: { kind?: string } } }).scoring?.candidate?.kind === RANKING_SOURCE_KIND
            ? await runRecommenderEvaluation(world.store, i as unknown as RecommenderLoopRequest)
            : await runEvaluation(world.store, i as unknown as EvaluationRequest);
      world.clock.advance(5_000);
      world.log(
        'evaluate',
        o.caseStudy === 'vision'
          ? evaluation.reason
          : `${evaluation.promote ? 'promote' : 'reject'}: ${evaluation.reason}`,
      );
      return evaluation;
    },
    // The recommender's co-visitation load: into the world's feature table when it has one, else parsed and counted.
    CoVisitation: async (i) => {
      const input = i as { uri: string; datasetId: string };
      const result = await loadCoVisitation(world.store, o.featureStore ?? { putNeighbours: async () => undefined }, {
        uri: input.uri,
        datasetId: input.datasetId,
        expiresAt: Math.floor(world.clock.now().getTime() / 1000) + 7 * 24 * 3600,
      });
      world.log(
        'dataset',
        `co-visitation: ${result.items} items, ${result.neighbours} neighbours ${o.featureStore ? 'loaded into the feature table' : 'read (no feature table in this world)'}`,
      );
      return result;
    },
    Manifests: async (i) => {
      if (o.caseStudy === 'vision') {
        const dataset = await prepareVisionTraining(world.store, i as unknown as VisionTrainingInputRequest);
        world.log(
          'dataset',
          `${dataset.labels} labels so far (${Object.entries(dataset.perSource)
            .map(([source, n]) => `${n} ${source}`)
            .join(
              ', ',
            )}): ${dataset.train} train / ${dataset.validation} validation / ${dataset.test} test images; classes ${dataset.classes.join(', ')}${dataset.newClasses.length > 0 && dataset.championClassesUri ? ` (new: ${dataset.newClasses.join(', ')})` : ''}`,
        );
        return dataset;
      }
      const result = await buildManifests(world.store, i as unknown as ManifestInput);
      world.log(
        'dataset',
        `manifests: ${result.train} train / ${result.validation} validation images, classes ${result.classes.join(', ')}`,
      );
      return result;
    },
    References: async (i) => {
      const result = await writeDeployReferences(
        world.store,
        o.ctrCounters,
        i as unknown as ReferencesInput,
        world.clock.now(),
      );
      world.log('baseline', `references: CTR — ${result.ctr.detail}; quality — ${result.quality.detail}`);
      return result;
    },
    Baseline: async (i) => {
      const result =
        o.caseStudy === 'vision'
          ? await refreshVisionBaseline(
              world.store,
              async (ref) => {
                const { bucket, key } = parseS3Uri(ref);
                return world.store.bytes(bucket, key);
              },
              i as unknown as VisionBaselineInput,
              o.imageLimits ?? { maxBytes: 5_242_880, maxPixels: 25_000_000 },
              world.clock.now(),
            )
          : await refreshBaseline(world.store, i as unknown as BaselineInput, world.clock.now());
      world.log(
        'baseline',
        `drift baseline refreshed from ${result.records} validation records (${result.features.length} features)`,
      );
      return result;
    },
  };
}

/** The Lambda service over the run's code (`run.functions`: name fragment → code; the first match runs). */
export function lambdaService(): ServiceHandlers {
  const invokeArn = async (functionName: string, payload: Json, ctx: CallContext): Promise<unknown> => {
    const name = functionName.split(':').slice(-1)[0];
    const code = Object.entries(ctx.run.functions).find(([fragment]) => name.includes(fragment))?.[1];
    if (!code) {
      throw new TaskError(
        UNSUPPORTED_CALL,
        `the local world has no code for the function ${name} (state ${ctx.state})`,
      );
    }
    return code(payload, ctx);
  };
  return {
    // The function ARN as the resource: the input is the payload; else the optimized integration.
    invoke: async (i, ctx) =>
      ctx.call.functionName !== undefined
        ? invokeArn(ctx.call.functionName, i, ctx)
        : { Payload: await invokeArn(String(i.FunctionName), (i.Payload ?? {}) as Json, ctx), StatusCode: 200 },
  };
}
