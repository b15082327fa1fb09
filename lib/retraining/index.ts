export * from './case-study';
export * from './loop';
export * from './props';
export type { ServingPlan } from './serving-plan';
export {
  algorithmImageUri,
  hasInstanceStorage,
  resolveAlgorithmRecipe,
  type AlgorithmRecipeOptions,
  type BuiltInAlgorithm,
  type TrainingRecipe,
} from './training-recipe';
