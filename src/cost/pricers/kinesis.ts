/**
 * Kinesis Data Streams: provisioned (shard-hours, PUT payload units of 25 KB, extended retention per shard-hour)
 * or on-demand (stream-hours, GB in with records rounded up to 1 KB, GB out per consumer, retention per GB-month);
 * retention beyond 7 days as long-term GB-months. Enhanced fan-out consumers per consumer-shard-hour and GB.
 * @see https://aws.amazon.com/kinesis/data-streams/pricing/
 */
import { costLine, gb, refTarget, resourcesOfType, type Pricer, type PricingContext } from '../context';
import { HOURS_PER_MONTH } from '../types';

/** Readers that pull every record of a stream: Firehose delivery streams and Lambda event source mappings. */
function consumersOf(streamId: string, ctx: PricingContext): number {
  const firehoses = resourcesOfType(ctx.stacks, 'AWS::KinesisFirehose::DeliveryStream').filter((r) => {
    const src = r.resource.Properties?.KinesisStreamSourceConfiguration as Record<string, unknown> | undefined;
    return refTarget(src?.KinesisStreamARN) === streamId;
  });
  const mappings = resourcesOfType(ctx.stacks, 'AWS::Lambda::EventSourceMapping').filter(
    (r) => refTarget(r.resource.Properties?.EventSourceArn) === streamId,
  );
  return firehoses.length + mappings.length;
}

export const kinesisStream: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const u = ctx.usage.ingestion;
  const events = ctx.workload.eventsPerMonth;
  const retentionHours = typeof p.RetentionPeriodHours === 'number' ? p.RetentionPeriodHours : 24;
  const mode = ((p.StreamModeDetails as Record<string, unknown> | undefined)?.StreamMode as string) ?? 'PROVISIONED';
  const inGBPerHour = gb(events * u.eventSizeBytes) / HOURS_PER_MONTH;
  const lines = [];
  if (mode === 'ON_DEMAND') {
    const inGB = gb(events * Math.ceil(u.eventSizeBytes / 1024) * 1024);
    const consumers = consumersOf(ref.id, ctx);
    lines.push(
      costLine(
        ref,
        'on-demand stream-hours',
        HOURS_PER_MONTH,
        'stream-hour',
        ctx.prices.price('kinesis.onDemand.streamHour'),
        false,
      ),
      costLine(
        ref,
        `data in (${fmtInt(events)} events × ${u.eventSizeBytes} B rounded up to 1 KB)`,
        inGB,
        'GB',
        ctx.prices.price('kinesis.onDemand.dataInGB'),
        true,
      ),
      costLine(
        ref,
        `data out (${consumers} consumer${consumers === 1 ? '' : 's'} reading everything)`,
        inGB * consumers,
        'GB',
        ctx.prices.price('kinesis.onDemand.dataOutGB'),
        true,
      ),
    );
    if (retentionHours > 24) {
      lines.push(
        costLine(
          ref,
          `extended retention (${Math.min(retentionHours, 168) - 24} h beyond 24 h)`,
          inGBPerHour * (Math.min(retentionHours, 168) - 24),
          'GB-month',
          ctx.prices.price('kinesis.onDemand.extendedRetentionGBMonth'),
          true,
        ),
      );
    }
  } else {
    const shards = typeof p.ShardCount === 'number' ? p.ShardCount : 1;
    lines.push(
      costLine(
        ref,
        `shard-hours (${shards} shard${shards === 1 ? '' : 's'} × ${HOURS_PER_MONTH} h)`,
        shards * HOURS_PER_MONTH,
        'shard-hour',
        ctx.prices.price('kinesis.provisioned.shardHour'),
        false,
      ),
      costLine(
        ref,
        `PUT payload units (${fmtInt(events)} events × ${Math.ceil(u.eventSizeBytes / 25600)} unit of 25 KB)`,
        events * Math.ceil(u.eventSizeBytes / 25600),
        'PUT payload unit',
        ctx.prices.price('kinesis.provisioned.putPayloadUnit'),
        true,
      ),
    );
    if (retentionHours > 24) {
      lines.push(
        costLine(
          ref,
          `extended retention to ${Math.min(retentionHours, 168)} h (${shards} shards × ${HOURS_PER_MONTH} h)`,
          shards * HOURS_PER_MONTH,
          'shard-hour',
          ctx.prices.price('kinesis.provisioned.extendedRetentionShardHour'),
          false,
        ),
      );
    }
  }
  if (retentionHours > 168) {
    lines.push(
      costLine(
        ref,
        `long-term retention (${retentionHours - 168} h beyond 7 days)`,
        inGBPerHour * (retentionHours - 168),
        'GB-month',
        ctx.prices.price('kinesis.longTermRetentionGBMonth'),
        true,
      ),
    );
  }
  return lines;
};

/** Enhanced fan-out consumer: consumer-shard-hours and GB retrieved. */
export const kinesisStreamConsumer: Pricer = (ref, ctx) => {
  const streamId = refTarget(ref.resource.Properties?.StreamARN);
  const stream = streamId
    ? ctx.stacks.flatMap((s) => (s.resources[streamId] ? [s.resources[streamId]] : []))[0]
    : undefined;
  const shards = typeof stream?.Properties?.ShardCount === 'number' ? stream.Properties.ShardCount : 1;
  const retrievedGB = gb(ctx.workload.eventsPerMonth * ctx.usage.ingestion.eventSizeBytes);
  return [
    costLine(
      ref,
      `enhanced fan-out consumer-shard-hours (${shards} shards)`,
      shards * HOURS_PER_MONTH,
      'consumer-shard-hour',
      ctx.prices.price('kinesis.efo.consumerShardHour'),
      false,
    ),
    costLine(
      ref,
      'enhanced fan-out data retrieved',
      retrievedGB,
      'GB',
      ctx.prices.price('kinesis.efo.dataRetrievalGB'),
      true,
    ),
  ];
};

/** 1234567 → "1,234,567". */
export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
