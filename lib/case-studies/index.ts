/**
 * The registry of case studies. Adding one is a folder (`lib/case-studies/<name>/`, implementing
 * {@link CaseStudy}) and a line here; see docs/ARCHITECTURE.md, "Where do I change X".
 */
import { App, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CaseStudyName } from '../config/schema';
import {
  resolveAlgorithmRecipe,
  type AlgorithmRecipeOptions,
  type TrainingRecipe,
} from '../retraining/training-recipe';
import type { CaseStudy } from './case-study';
import { RECOMMENDER } from './recommender';
import { VISION } from './vision';

export * from './case-study';
export * from './types';

/** Every case study, by name. */
export const CASE_STUDY_SPECS: Readonly<Record<CaseStudyName, CaseStudy>> = {
  recommender: RECOMMENDER,
  vision: VISION,
};

/** The registered case study of that name; unknown names fail with the registered ones. */
export function caseStudyOf(name: string): CaseStudy {
  const study = (CASE_STUDY_SPECS as Readonly<Record<string, CaseStudy | undefined>>)[name];
  if (!study) {
    throw new Error(
      `no case study is registered as "${name}"; registered: ${Object.keys(CASE_STUDY_SPECS).join(', ')}`,
    );
  }
  return study;
}

/** What the recipe of a case study is resolved from. */
export interface TrainingRecipeOptions extends Omit<AlgorithmRecipeOptions, 'algorithm'> {
  readonly caseStudy: CaseStudyName;
  /** Inference image override (a case study with its own recipe). @default its published image */
  readonly inferenceImage?: string;
  /** Endpoint and batch-transform instance type (a case study with its own recipe). @default `instanceType` */
  readonly servingInstanceType?: string;
}

/**
 * The training recipe of a case study (image for the region, channels, hyperparameters, metrics): its own
 * (script mode), resolved in `scope`, or its built-in algorithm's.
 * @throws when the region has no known image or the instance type cannot run the algorithm
 */
export function resolveTrainingRecipe(options: TrainingRecipeOptions, scope?: Construct): TrainingRecipe {
  const { caseStudy, inferenceImage, servingInstanceType, ...rest } = options;
  const study = caseStudyOf(caseStudy);
  if (study.trainingRecipe) {
    // The recipe adds the model code as an asset: into the given scope, or a stack of its own.
    return study.trainingRecipe(scope ?? new Stack(new App(), `${caseStudy}-recipe`), {
      ...rest,
      inferenceImage,
      servingInstanceType: servingInstanceType ?? rest.instanceType,
    });
  }
  if (study.algorithm === 'pytorch') throw new Error(`the ${caseStudy} case study names no training recipe`);
  return resolveAlgorithmRecipe({ ...rest, algorithm: study.algorithm });
}
