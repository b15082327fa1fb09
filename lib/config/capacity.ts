/**
 * Kinesis Data Streams capacity planning for provisioned mode.
 *
 * A provisioned shard accepts up to 1 MiB/s or 1,000 records/s of writes, whichever comes first.
 * @see https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html
 */
export const SHARD_WRITE_BYTES_PER_SECOND = 1024 * 1024;
/** Records per second one shard accepts. */
export const SHARD_WRITE_RECORDS_PER_SECOND = 1000;

/** The traffic a stream must carry at peak. */
export interface TrafficEstimate {
  /** Peak events per second the producers send. */
  readonly peakEventsPerSecond: number;
  /** Average serialized event size in bytes (the partition key counts against the shard limit too). */
  readonly averageEventSizeBytes: number;
  /** Multiplier over the peak kept free for bursts and growth, e.g. 1.5 for 50% headroom. */
  readonly headroom: number;
}

/** The derivation of a shard count, kept so docs and summaries can show the arithmetic. */
export interface ShardPlan {
  readonly bytesPerSecond: number;
  readonly shardsForBytes: number;
  readonly shardsForRecords: number;
  readonly shardCount: number;
  readonly limitedBy: 'bytes' | 'records';
}

/**
 * Shards needed for a traffic estimate: the larger of the byte-bound and the record-bound shard counts,
 * each computed with headroom, never below 1.
 */
export function planShards(traffic: TrafficEstimate): ShardPlan {
  const bytesPerSecond = traffic.peakEventsPerSecond * traffic.averageEventSizeBytes;
  const shardsForBytes = (bytesPerSecond * traffic.headroom) / SHARD_WRITE_BYTES_PER_SECOND;
  const shardsForRecords = (traffic.peakEventsPerSecond * traffic.headroom) / SHARD_WRITE_RECORDS_PER_SECOND;
  const shardCount = Math.max(1, Math.ceil(Math.max(shardsForBytes, shardsForRecords) - 1e-9));
  return {
    bytesPerSecond,
    shardsForBytes,
    shardsForRecords,
    shardCount,
    limitedBy: shardsForBytes >= shardsForRecords ? 'bytes' : 'records',
  };
}

/** How a daily-user count turns into peak events per second. */
export interface UserTrafficAssumptions {
  /** Daily active users. */
  readonly dailyActiveUsers: number;
  /** Events each active user produces per day on average. */
  readonly eventsPerUserPerDay: number;
  /** Peak-hour rate over the daily average rate, e.g. 3. */
  readonly peakToAverage: number;
}

/** Peak events per second for a user base: users × events/user/day ÷ 86,400 s × peak-to-average. */
export function peakEventsPerSecond(assumptions: UserTrafficAssumptions): number {
  return ((assumptions.dailyActiveUsers * assumptions.eventsPerUserPerDay) / 86_400) * assumptions.peakToAverage;
}
