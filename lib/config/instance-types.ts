/**
 * SageMaker ML instance types the blueprint knows, with the hardware facts the config validation and the cost
 * estimator need. Source: https://aws.amazon.com/sagemaker/pricing/ (instance details), read 2026-11.
 * An instance type missing here fails synth with a message listing what is known; add it here to use it.
 */
export interface InstanceTypeInfo {
  /** Number of GPUs (0 for CPU instances). */
  readonly gpus: number;
  /** vCPUs. */
  readonly vcpus: number;
  /** Memory in GiB. */
  readonly memoryGiB: number;
  /** Available for SageMaker training jobs. */
  readonly training: boolean;
  /** Available for SageMaker real-time hosting. */
  readonly hosting: boolean;
}

function family(
  prefix: string,
  sizes: Record<string, [vcpus: number, memoryGiB: number, gpus: number]>,
  use: { training: boolean; hosting: boolean } = { training: true, hosting: true },
): Record<string, InstanceTypeInfo> {
  const out: Record<string, InstanceTypeInfo> = {};
  for (const [size, [vcpus, memoryGiB, gpus]] of Object.entries(sizes)) {
    out[`ml.${prefix}.${size}`] = { vcpus, memoryGiB, gpus, ...use };
  }
  return out;
}

/** Every known SageMaker instance type, keyed by its API name (`ml.g5.xlarge`). */
export const INSTANCE_TYPES: Readonly<Record<string, InstanceTypeInfo>> = {
  ...family(
    't3',
    { medium: [2, 4, 0], large: [2, 8, 0], xlarge: [4, 16, 0], '2xlarge': [8, 32, 0] },
    { training: false, hosting: true },
  ),
  ...family('m5', {
    large: [2, 8, 0],
    xlarge: [4, 16, 0],
    '2xlarge': [8, 32, 0],
    '4xlarge': [16, 64, 0],
    '12xlarge': [48, 192, 0],
    '24xlarge': [96, 384, 0],
  }),
  ...family('m6i', {
    large: [2, 8, 0],
    xlarge: [4, 16, 0],
    '2xlarge': [8, 32, 0],
    '4xlarge': [16, 64, 0],
    '8xlarge': [32, 128, 0],
  }),
  ...family('c5', {
    large: [2, 4, 0],
    xlarge: [4, 8, 0],
    '2xlarge': [8, 16, 0],
    '4xlarge': [16, 32, 0],
    '9xlarge': [36, 72, 0],
    '18xlarge': [72, 144, 0],
  }),
  ...family('c6i', { large: [2, 4, 0], xlarge: [4, 8, 0], '2xlarge': [8, 16, 0], '4xlarge': [16, 32, 0] }),
  ...family('r5', { large: [2, 16, 0], xlarge: [4, 32, 0], '2xlarge': [8, 64, 0], '4xlarge': [16, 128, 0] }),
  ...family('g4dn', {
    xlarge: [4, 16, 1],
    '2xlarge': [8, 32, 1],
    '4xlarge': [16, 64, 1],
    '8xlarge': [32, 128, 1],
    '12xlarge': [48, 192, 4],
    '16xlarge': [64, 256, 1],
  }),
  ...family('g5', {
    xlarge: [4, 16, 1],
    '2xlarge': [8, 32, 1],
    '4xlarge': [16, 64, 1],
    '8xlarge': [32, 128, 1],
    '12xlarge': [48, 192, 4],
    '16xlarge': [64, 256, 1],
    '24xlarge': [96, 384, 4],
    '48xlarge': [192, 768, 8],
  }),
  ...family('g6', {
    xlarge: [4, 16, 1],
    '2xlarge': [8, 32, 1],
    '4xlarge': [16, 64, 1],
    '8xlarge': [32, 128, 1],
    '12xlarge': [48, 192, 4],
    '48xlarge': [192, 768, 8],
  }),
  ...family('p3', { '2xlarge': [8, 61, 1], '8xlarge': [32, 244, 4], '16xlarge': [64, 488, 8] }),
  ...family('p4d', { '24xlarge': [96, 1152, 8] }),
  ...family('p5', { '48xlarge': [192, 2048, 8] }),
};

/** Looks up an instance type; `undefined` when unknown. */
export function instanceTypeInfo(name: string): InstanceTypeInfo | undefined {
  return Object.prototype.hasOwnProperty.call(INSTANCE_TYPES, name) ? INSTANCE_TYPES[name] : undefined;
}
