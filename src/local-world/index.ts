/**
 * The one local AWS world (see `world.ts`): emulators, the world that serves a synthesized state machine's calls,
 * its clock, errors and intrinsic resolver.
 */
export { callOf, statesOf, type Call } from './calls';
export { SimClock, type WorldLog } from './clock';
export { Emulators, type ShardRecord } from './emulators';
export { TaskError, UNSUPPORTED_CALL } from './errors';
export { FIXED, resolveIntrinsics, type ResolveContext } from './intrinsics';
export type { QueryEngine, QueryOutcome } from './services/athena';
export { loopFunctions, type LoopFunctionsOptions } from './services/lambda';
export type { LocalPackage } from './services/sagemaker-registry';
export type * from './types';
export {
  LocalWorld,
  type CallRecord,
  type DeployedStack,
  type LocalWorldOptions,
  type RunOptions,
  type RunRecord,
  type TemplateLike,
} from './world';
