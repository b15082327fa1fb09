/**
 * Drift checker Lambda, scheduled by EventBridge. Parses the event, wires AWS clients and Powertools, and runs
 * {@link runDriftCheck}. Everything it decides is in `core/drift/`.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { ScheduledEvent } from 'aws-lambda';
import type { DriftReport } from '../../core/drift/engine';
import type { QualityResult } from '../../core/drift/quality';
import { readText, type ObjectStore } from '../../core/storage/object-store';
import { S3ObjectStore } from '../shared/aws/s3-object-store';
import { ctrBaselineKey, ctrSettingsFromEnv, ctrSignals, parseCtrBaseline } from '../../core/recommender/ctr';
import { DynamoFeatureStore } from '../shared/aws/dynamo-feature-store';
import {
  runDriftCheck,
  type DriftCheckResult,
  type DriftMetricsSink,
  type ModelDriftDetectedDetail,
} from '../../core/drift/checker';
import { settingsFromEnv } from '../../core/drift/checker-settings';

import { DRIFT_DETAIL_TYPE, DRIFT_EVENT_SOURCE } from '../../core/contracts/drift-events';

const logger = new Logger();
const metrics = new Metrics({ namespace: 'MlBlueprint/Drift' });
const tracer = new Tracer();
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const events = tracer.captureAWSv3Client(new EventBridgeClient({}));
const settings = settingsFromEnv(process.env);

// Recommender only: CTR per model version from the feature store, as key proportion signals (when configured).
const ctr = ctrSettingsFromEnv(process.env);
const ctrStore = ctr
  ? new DynamoFeatureStore(
      DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({}))),
      ctr.tableName,
    )
  : undefined;

/** The CTR port: baseline CTR next to the baseline profile when present, else the rolling reference. */
export function ctrPort(store: ObjectStore) {
  if (!ctr || !ctrStore) return undefined;
  return async (window: { start: Date; end: Date }) => {
    const object = await store.get(settings.artifactsBucket, ctrBaselineKey(settings.endpointName));
    const baseline = object ? parseCtrBaseline(JSON.parse(await readText(object))) : undefined;
    return ctrSignals(ctrStore, window, { ...ctr, baseline });
  };
}

/** A Powertools metric unit. */
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Powertools EMF metrics: dataset-level with (CaseStudy, Endpoint), feature-level with Feature added, realised
 * quality with Metric added (`RealisedQuality` and its interval bounds, `QualityDropped`, `QualitySamples`).
 */
export function powertoolsSink(m: Metrics, caseStudy: string, endpoint: string): DriftMetricsSink {
  const dims = { CaseStudy: caseStudy, Endpoint: endpoint };
  // A single metric is flushed by its first addMetric, which also clears its dimensions: one per metric.
  const emit = (extra: Record<string, string>, name: string, unit: Unit, value: number) => {
    const single = m.singleMetric();
    single.addDimensions({ ...dims, ...extra });
    single.addMetric(name, unit, value);
  };
  return {
    window(report: DriftReport, retrainingRequested: boolean) {
      m.addDimensions(dims);
      m.addMetric('DatasetDrifted', MetricUnit.Count, report.drifted ? 1 : 0);
      m.addMetric('DriftedShare', MetricUnit.NoUnit, report.driftedShare);
      m.addMetric('RecordsInWindow', MetricUnit.Count, report.records.current);
      m.addMetric('InvalidRecords', MetricUnit.Count, report.records.invalid);
      m.addMetric('RetrainingRequested', MetricUnit.Count, retrainingRequested ? 1 : 0);
      for (const f of report.features) {
        if (!f.effect) continue;
        const feature = { Feature: f.name };
        emit(feature, 'FeatureDrifted', MetricUnit.Count, f.drifted ? 1 : 0);
        emit(feature, 'DriftEffect', MetricUnit.NoUnit, f.effect.value);
        if (f.test) emit(feature, 'DriftAdjustedPValue', MetricUnit.NoUnit, f.test.adjustedPValue);
      }
    },
    quality(results: readonly QualityResult[], retrainingRequested: boolean) {
      m.addDimensions(dims);
      m.addMetric('QualityRetrainingRequested', MetricUnit.Count, retrainingRequested ? 1 : 0);
      m.addMetric('QualityDropped', MetricUnit.Count, results.filter((q) => q.dropped).length);
      for (const q of results) {
        const metric = { Metric: q.name };
        emit(metric, 'RealisedQuality', MetricUnit.NoUnit, q.value);
        emit(metric, 'RealisedQualityLower', MetricUnit.NoUnit, q.interval.lower);
        emit(metric, 'RealisedQualityUpper', MetricUnit.NoUnit, q.interval.upper);
        emit(metric, 'QualitySamples', MetricUnit.Count, q.samples);
        emit(metric, 'QualityDropped', MetricUnit.Count, q.dropped ? 1 : 0);
      }
    },
    recheck(_windowEnd: string, _version: number, lateShare: number) {
      m.addDimensions(dims);
      m.addMetric('WindowRechecked', MetricUnit.Count, 1);
      m.addMetric('LateRecordShare', MetricUnit.NoUnit, lateShare);
    },
    noOp(reason) {
      m.addDimensions(dims);
      m.addMetric(
        reason === 'no-baseline' ? 'BaselineMissing' : reason === 'empty-window' ? 'EmptyWindow' : 'DuplicateWindow',
        MetricUnit.Count,
        1,
      );
    },
  };
}

/** The Lambda entry point. */
export async function handler(event: Partial<ScheduledEvent>): Promise<DriftCheckResult> {
  const now = event.time ? new Date(event.time) : new Date();
  if (Number.isNaN(now.getTime())) throw new Error(`event.time is not a valid time: ${String(event.time)}`);
  logger.appendKeys({ caseStudy: settings.caseStudy, endpoint: settings.endpointName });
  try {
    const store = new S3ObjectStore(s3);
    return await runDriftCheck(
      settings,
      {
        store,
        proportions: ctrPort(store),
        metrics: powertoolsSink(metrics, settings.caseStudy, settings.endpointName),
        log: (level, message, data) => logger[level](message, data ?? {}),
        publishDriftDetected: async (detail: ModelDriftDetectedDetail) => {
          const out = await events.send(
            new PutEventsCommand({
              Entries: [
                {
                  Source: DRIFT_EVENT_SOURCE,
                  DetailType: DRIFT_DETAIL_TYPE,
                  Detail: JSON.stringify(detail),
                  EventBusName: process.env.EVENT_BUS_NAME ?? 'default',
                },
              ],
            }),
          );
          if ((out.FailedEntryCount ?? 0) > 0) {
            throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries?.map((e) => e.ErrorMessage))}`);
          }
        },
      },
      now,
    );
  } finally {
    metrics.publishStoredMetrics();
  }
}
