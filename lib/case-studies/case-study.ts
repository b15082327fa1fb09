/**
 * A case study as a strategy: everything that differs between case studies, behind one interface that the generic
 * stacks and the retraining loop call. Each case study implements it in its folder (`lib/case-studies/<name>/`)
 * and is listed once in the registry (`lib/case-studies/index.ts`).
 */
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { BlueprintConfig } from '../config';
import type { LoopCaseStudy } from '../retraining/case-study';
import type { ServingPlan } from '../retraining/serving-plan';
import type { AlgorithmRecipeOptions, BuiltInAlgorithm, TrainingRecipe } from '../retraining/training-recipe';
import type { ImportedDataPlane } from '../stacks/data-plane-import';
import type { CaseStudySpec } from './types';

/** What a case study's constructs are wired to in its ML stack. */
export interface MlStackContext {
  readonly config: BlueprintConfig;
  /** The endpoint the retraining loop deploys. */
  readonly endpointName: string;
  /** The case study's data plane (stream, buckets, lake key). */
  readonly dataPlane: ImportedDataPlane;
  /** Key of logs, queues, environments and the topic. */
  readonly opsKey: kms.IKey;
  /** Where alarms notify. */
  readonly topic: sns.ITopic;
  /** The drift checker, which may read signals the case study adds. */
  readonly driftChecker: lambda.Function;
  /** Alarms that roll a model update back. */
  readonly rollbackAlarms: readonly cloudwatch.IAlarm[];
}

/** How the retraining loop serves the case study's model. */
export interface CaseStudyServing {
  /** The serving plan the loop deploys with. @default an instance-based variant with blue/green updates */
  readonly servingPlan?: ServingPlan;
  /** Grants the loop's state machine what the plan needs beyond the loop's own permissions. @default nothing */
  grantDeploy?(grantee: iam.IGrantable): void;
  /**
   * Grants the models' role (the loop's SageMaker role) what the case study's own jobs run as the served model
   * need (e.g. a backfill's batch transform). @default nothing
   */
  grantModelRole?(role: iam.IGrantable): void;
  /**
   * Configures and grants the loop's references writer (`ReferencesFunction`), e.g. the CTR counters it reads the
   * replaced champion's CTR from. @default it writes the quality reference only
   */
  configureReferences?(fn: lambda.Function): void;
  /** More alarms that roll a model update back (e.g. the recommender's canary CTR check). @default none */
  readonly rollbackAlarms?: readonly cloudwatch.IAlarm[];
}

/** What a case study's own training recipe is resolved from (the stage's training and serving settings). */
export interface CaseStudyRecipeOptions extends Omit<AlgorithmRecipeOptions, 'algorithm'> {
  /** Inference image override. @default the case study's published image */
  readonly inferenceImage?: string;
  /** Instance type of the endpoint and of batch transform. */
  readonly servingInstanceType: string;
}

/** A case study: its presets and schema, its model's algorithm, its part of the loop and its own constructs. */
export interface CaseStudy extends CaseStudySpec {
  /** The built-in algorithm that trains (and serves) its model, or the framework of its own recipe. */
  readonly algorithm: BuiltInAlgorithm | 'pytorch';
  /**
   * Its own training recipe (script mode: the model code in the repository, framework images), resolved in
   * `scope` (where the code's asset goes). @default the built-in algorithm's recipe
   */
  trainingRecipe?(scope: Construct, options: CaseStudyRecipeOptions): TrainingRecipe;
  /**
   * Its part of the retraining loop: the dataset, scoring and baseline states.
   * @param config the stage's configuration; without it, the case study's defaults
   */
  retraining(config?: BlueprintConfig): LoopCaseStudy;
  /**
   * Adds its own constructs to its ML stack (ingestion, serving path, review, their alarms and grants), before the
   * retraining loop, and says how the loop serves.
   */
  addToMlStack(stack: Construct, context: MlStackContext): CaseStudyServing;
}
