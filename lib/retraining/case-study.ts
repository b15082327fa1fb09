/**
 * What a case study brings to the retraining loop. The loop is the same for every case study; what differs is how
 * its dataset is built, how a model is scored on the validation data, and how the drift baseline is refreshed.
 * Each case study implements this in `lib/case-studies/<name>/retraining.ts`.
 */
import type { Duration } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { BlueprintFunction } from '../constructs/blueprint-function';
import type { RetrainingLoopProps } from './props';
import type { LoopStates } from './states';

/** The Lambda that refreshes the drift baseline after a deployment (`BaselineFunction`). */
export interface BaselineFunctionSpec {
  /** Handler folder under `lambdas/`. */
  readonly handlerDir: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** @default none */
  readonly environment?: Record<string, string>;
}

/** What the dataset states are built with. */
export interface DatasetContext {
  /** Scope of the states (the dataset phase). */
  readonly scope: Construct;
  /** Scope of resources (the loop): functions created here keep their logical IDs. */
  readonly loop: Construct;
  readonly props: RetrainingLoopProps;
  readonly states: LoopStates;
  /** The events table, quoted: `"database"."table"`. */
  readonly table: string;
  /**
   * Predicate of the dataset window with three placeholders: window start (twice), window end. Partition pruning
   * on `dt`, exact bounds on `event_time`.
   */
  readonly inWindow: string;
  /** `s3://<curated>/datasets/<datasetId>/<suffix>` at run time. */
  datasetUri(suffix: string): string;
}

/**
 * The states that build the dataset, entered when there is enough new data. They must leave in `$.dataset` at
 * least `trainUri`, `validationUri` and `hyperparameters`, and whatever {@link ScoringSpec} and
 * {@link LoopCaseStudy.baselinePayload} read.
 */
export interface DatasetStates {
  readonly start: sfn.State;
  readonly end: sfn.INextable;
  /** Lambdas the states invoke, by role (they join `RetrainingLoop.functions`). @default none */
  readonly functions?: Readonly<Record<string, BlueprintFunction>>;
}

/** How batch transform scores a model on the validation data, and where the evaluate Lambda finds the scores. */
export interface ScoringSpec {
  /** `TransformInput` of the transform job. */
  readonly transformInput: Record<string, unknown>;
  /** `TransformOutput.Accept`. */
  readonly accept: string;
  /** `TransformOutput.AssembleWith`. @default not set */
  readonly assembleWith?: string;
  /** `DataProcessing` (input and output filters). @default not set */
  readonly dataProcessing?: Record<string, unknown>;
  /**
   * Score the candidate even without a champion (its outputs also feed the drift baseline or judge a first model).
   * @default false: the first model is judged on its training metric alone
   */
  readonly alwaysScoreCandidate?: boolean;
  /** The evaluate Lambda's description of one model's scores, written under `outputUri`. */
  source(outputUri: string, model: 'candidate' | 'champion'): Record<string, unknown>;
}

/** A case study's part of the retraining loop. */
export interface LoopCaseStudy {
  /** Predicate added to the new-record count (` AND …`), e.g. only labelled records count. @default none */
  readonly newRecordCondition?: string;
  /**
   * Prefixes of the raw bucket the training containers and the baseline Lambda read besides the dataset
   * (e.g. the images a manifest points at). @default none
   */
  readonly rawInputPrefixes?: readonly string[];
  /** How candidate and champion are scored on the same validation data. */
  readonly scoring: ScoringSpec;
  /** The Lambda that refreshes the drift baseline of an endpoint. */
  baselineFunction(endpointName: string): BaselineFunctionSpec;
  /**
   * The Lambda that applies the promotion rule (`EvaluateFunction`), when the case study has its own.
   * @default `lambdas/retraining-evaluate` (metric comparison with a margin)
   */
  evaluateFunction?(endpointName: string): BaselineFunctionSpec;
  /**
   * `ModelMetrics` of the registered model package (JSONPath values allowed), e.g. the evaluation report in S3.
   * @default none
   */
  readonly modelMetrics?: Record<string, unknown>;
  /** The states that build the dataset. */
  buildDataset(context: DatasetContext): DatasetStates;
  /** Payload of `RefreshBaseline` (JSONPath values allowed). */
  baselinePayload(props: RetrainingLoopProps): Record<string, unknown>;
}
