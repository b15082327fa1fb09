/**
 * The local SageMaker of the local AWS world: training jobs, batch transform and the runtime `InvokeEndpoint`
 * API, running the project's own model code under the framework containers' script-mode contract.
 * See README.md in this folder.
 */
export { packModelDirectory, extractModelArchive } from './archive';
export { localRuntimeClient } from './client';
export {
  DataCaptureWriter,
  type CaptureRecord,
  type CapturedInvocation,
  type CapturedPayload,
  type DataCaptureOptions,
} from './data-capture';
export { ModelContainer, type ContainerReply, type ModelContainerOptions } from './model-container';
export { DEFAULT_PYTHON, PYTHON_ENV_VAR, pythonExecutable } from './python';
export {
  LocalSageMakerRuntime,
  startLocalEndpoint,
  type LocalEndpoint,
  type LocalEndpointConfig,
  type LocalSageMakerRuntimeOptions,
  type LocalVariantConfig,
  type StartLocalEndpointInput,
} from './runtime-server';
export {
  TrainingJobError,
  extractMetrics,
  runTrainingJob,
  type HyperparameterValue,
  type MetricDefinition,
  type TrainingJobInput,
  type TrainingJobOutput,
  type TrainingMetric,
} from './training';
export { TransformJobError, runTransformJob, type TransformJobInput, type TransformJobOutput } from './transform';
