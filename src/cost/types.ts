/** One priced component of one resource: `monthly = quantity × unitPrice`. The JSON contract of `npm run cost`. */
export interface CostLine {
  /** Stack the resource belongs to (`Sandbox-Recommender-Data`). */
  readonly stack: string;
  /** Logical ID of the resource in its template (or of the state machine that creates it). */
  readonly resource: string;
  /** CloudFormation type, or the SageMaker type a state machine creates (`AWS::SageMaker::TrainingJob`). */
  readonly type: string;
  /** What is billed, in words: `shard-hours (2 shards × 730 h)`. */
  readonly component: string;
  readonly quantity: number;
  readonly unit: string;
  /** USD per unit, from the price table. */
  readonly unitPrice: number;
  /** USD per month: exactly `quantity × unitPrice` (no rounding; renderers round for display). */
  readonly monthly: number;
  /** True when the line depends on the usage profile (traffic); false when the resource costs this idle. */
  readonly usageBased: boolean;
}

/** The estimate of one stage: the `--format json` document. */
export interface Estimate {
  readonly currency: 'USD';
  readonly region: string;
  readonly stage: string;
  readonly priceTableDate: string;
  readonly totalMonthly: number;
  readonly lines: CostLine[];
}

/** A problem with the input of an estimate (unknown price, region, resource type, bad usage): exit 2. */
export class CostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CostError';
  }
}

/** Hours in a month, as AWS prices monthly figures. */
export const HOURS_PER_MONTH = 730;
/** Days in a month (730 h / 24). */
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
/** Bytes in a GB as AWS bills data volumes (binary gigabyte). */
export const BYTES_PER_GB = 1024 ** 3;

/** Rounds a money or quantity figure to 6 decimals, so printed JSON stays readable and sums stay exact enough. */
export const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;
