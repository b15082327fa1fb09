export * from './capacity';
export * from './errors';
export * from './instance-types';
export * from './resolve';
export * from './schema';
export { STAGE_PRESETS } from './stages';
export * from './names';
