/**
 * Amazon Data Firehose: GB ingested with every record rounded up to the next 5 KB (as AWS bills it, for Direct
 * PUT and Kinesis-stream sources), plus format conversion per GB when JSON → Parquet conversion is on.
 * @see https://aws.amazon.com/firehose/pricing/
 */
import { costLine, gb, type Pricer } from '../context';
import { fmtInt } from './kinesis';

/** Firehose bills each record in 5 KB increments. */
export const FIREHOSE_RECORD_INCREMENT_BYTES = 5 * 1024;

export const firehoseDeliveryStream: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const events = ctx.workload.eventsPerMonth;
  const size = ctx.usage.ingestion.eventSizeBytes;
  const billedBytes = Math.ceil(size / FIREHOSE_RECORD_INCREMENT_BYTES) * FIREHOSE_RECORD_INCREMENT_BYTES;
  const ingestedGB = gb(events * billedBytes);
  const lines = [
    costLine(
      ref,
      `ingestion (${fmtInt(events)} records × ${size} B billed as ${billedBytes / 1024} KB each)`,
      ingestedGB,
      'GB',
      ctx.prices.price('firehose.ingestionGB'),
      true,
    ),
  ];
  const dest = p.ExtendedS3DestinationConfiguration as Record<string, unknown> | undefined;
  const conversion = dest?.DataFormatConversionConfiguration as Record<string, unknown> | undefined;
  if (conversion?.Enabled === true) {
    lines.push(
      costLine(
        ref,
        'format conversion (JSON → Parquet) of the ingested volume',
        ingestedGB,
        'GB',
        ctx.prices.price('firehose.formatConversionGB'),
        true,
      ),
    );
  }
  return lines;
};
