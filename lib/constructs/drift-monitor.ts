import { Duration, Size } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PolicyDocument } from '../../core/drift/checker-settings';
import { acknowledgeBucketGrants } from '../nag';
import { BlueprintFunction } from './blueprint-function';
import { FailureQueue } from './failure-queue';
import { alarmOnAny, scheduleFunction } from './scheduled-alarms';

export { DRIFT_DETAIL_TYPE, DRIFT_EVENT_SOURCE } from '../../core/contracts/drift-events';

/** POWERTOOLS_SERVICE_NAME of the checker (BlueprintFunction uses the handler folder name). */
const DRIFT_CHECKER_SERVICE = 'drift-checker';

/** Properties of a {@link DriftMonitor}. */
export interface DriftMonitorProps {
  /** Case study and stage, for metrics dimensions and the event detail. */
  readonly caseStudy: string;
  readonly stage: string;
  /** The endpoint whose data capture is checked. */
  readonly endpointName: string;
  /** Bucket receiving the endpoint's data capture. */
  readonly captureBucket: s3.IBucket;
  /** Prefix of data capture in that bucket. @default 'datacapture/' */
  readonly capturePrefix?: string;
  /** Bucket holding baselines (read), reports and state (read/write), under `drift/`. */
  readonly artifactsBucket: s3.IBucket;
  /** How often to check; also the window length. */
  readonly schedule: Duration;
  /** Drift and retraining policy, written to the function's environment. */
  readonly policy: PolicyDocument;
  /** Key for the function's logs, environment and dead-letter queue. */
  readonly encryptionKey: kms.IKey;
  /** Where alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** Bus the `ModelDriftDetected` event goes to. @default the account's default bus */
  readonly eventBus?: events.IEventBus;
  /**
   * Memory of the checker: Lambda gives one vCPU per 1,769 MB (6 at 10,240 MB), and the checker reads capture objects
   * on every vCPU. @default Size.mebibytes(1769) (one vCPU)
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
   */
  readonly memorySize?: Size;
}

/**
 * The scheduled drift checker of one endpoint: a Lambda that compares the last settled window of data capture with
 * the model's baseline profile (by phase when configured), writes a report and its HTML page, judges the realised
 * quality of served predictions from outcome records, publishes EMF metrics and, when the decision rule says so,
 * puts a `ModelDriftDetected` event. Failed invocations land in a KMS-encrypted dead-letter queue; errors, dead
 * letters, detected drift and a realised-quality drop raise alarms.
 */
export class DriftMonitor extends Construct {
  /** The checker function. */
  public readonly function: BlueprintFunction;
  /** The schedule rule. */
  public readonly rule: events.Rule;
  /** Failed invocations. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Alarms of the checker (errors, dead letters, drift). */
  public readonly alarms: cloudwatch.Alarm[];
  private readonly props: DriftMonitorProps;

  constructor(scope: Construct, id: string, props: DriftMonitorProps) {
    super(scope, id);
    this.props = props;
    const minutes = props.schedule.toMinutes();
    if (minutes < 5 || minutes > 1440) {
      throw new Error(`schedule must be between 5 and 1440 minutes; received ${minutes}`);
    }
    const memory = (props.memorySize ?? Size.mebibytes(1769)).toMebibytes();
    if (!Number.isInteger(memory) || memory < 1769 || memory > 10_240) {
      throw new Error(
        `memorySize must be a whole number of MiB from 1769 (one vCPU) to 10240 (six vCPUs); received ${memory}`,
      );
    }
    const capturePrefix = props.capturePrefix ?? 'datacapture/';
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    this.deadLetterQueue = new FailureQueue(this, 'DeadLetters', {
      encryptionKey: props.encryptionKey,
      purpose: 'dead-letter queue of the drift checker',
    });

    this.function = new BlueprintFunction(this, 'Function', {
      handlerDir: 'drift-checker',
      description: `Drift checker for endpoint ${props.endpointName}`,
      encryptionKey: props.encryptionKey,
      timeout: Duration.minutes(10),
      // CPU-bound (parsing, sorting, permutation tests): one vCPU per 1,769 MB, each one reading capture objects.
      memorySize: memory,
      reservedConcurrentExecutions: 1, // one run at a time per endpoint: state updates never race
      environment: {
        CASE_STUDY: props.caseStudy,
        STAGE: props.stage,
        ENDPOINT_NAME: props.endpointName,
        CAPTURE_BUCKET: props.captureBucket.bucketName,
        CAPTURE_PREFIX: capturePrefix,
        ARTIFACTS_BUCKET: props.artifactsBucket.bucketName,
        WINDOW_MINUTES: String(minutes),
        DRIFT_POLICY: JSON.stringify(props.policy),
        EVENT_BUS_NAME: eventBus.eventBusName,
        POWERTOOLS_METRICS_NAMESPACE: 'MlBlueprint/Drift',
      },
    });
    this.function.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });

    props.captureBucket.grantRead(this.function, `${capturePrefix}*`);
    props.artifactsBucket.grantRead(this.function, 'drift/*');
    props.artifactsBucket.grantPut(this.function, 'drift/reports/*');
    props.artifactsBucket.grantPut(this.function, 'drift/state/*');
    eventBus.grantPutEventsTo(this.function);
    const policy = this.function.role?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledgeBucketGrants(policy, [
        { bucket: props.captureBucket, prefixes: [capturePrefix], encrypted: true },
        {
          bucket: props.artifactsBucket,
          prefixes: ['drift/', 'drift/reports/', 'drift/state/'],
          write: 'put',
          encrypted: true,
        },
      ]);
    }

    this.rule = scheduleFunction(this, {
      function: this.function,
      schedule: props.schedule,
      description: `Checks ${props.endpointName} for drift every ${minutes} minutes`,
      deadLetterQueue: this.deadLetterQueue,
    });

    const action = new cwActions.SnsAction(props.alarmTopic);
    this.alarms = [
      alarmOnAny(this, 'ErrorsAlarm', {
        description: `Drift checker of ${props.endpointName} failed. Runbook: docs/runbooks/drift-checker-failed.md`,
        metric: this.function.metricErrors({ period: props.schedule, statistic: 'Sum' }),
      }),
      alarmOnAny(this, 'DeadLettersAlarm', {
        description: `Drift checker invocations of ${props.endpointName} were dead-lettered. Runbook: docs/runbooks/drift-checker-failed.md`,
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      }),
      alarmOnAny(this, 'QualityDropAlarm', {
        description: `Realised quality of ${props.endpointName} dropped significantly (CTR, nDCG@10 or audit accuracy). Runbook: docs/runbooks/realised-quality-dropped.md`,
        metric: this.metricQualityDropped({ period: props.schedule }),
      }),
      alarmOnAny(this, 'DriftAlarm', {
        description: `Data drift detected on ${props.endpointName}. Runbook: docs/runbooks/drift-detected.md`,
        metric: this.metricDatasetDrifted({ period: props.schedule }),
      }),
    ];
    for (const alarm of this.alarms) alarm.addAlarmAction(action);
  }

  /** 1 for each window in which the dataset drifted. */
  public metricDatasetDrifted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('DatasetDrifted', { statistic: 'Maximum', ...props });
  }

  /** Realised-quality metrics that dropped significantly in the judged window (0 when none did). */
  public metricQualityDropped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('QualityDropped', { statistic: 'Maximum', ...props });
  }

  /** The realised quality of the served model (`ctr`, `ndcg@10`, `accuracy`) per judged window. */
  public metricRealisedQuality(metric: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'MlBlueprint/Drift',
      metricName: 'RealisedQuality',
      dimensionsMap: { ...this.dimensions(), Metric: metric },
      statistic: 'Average',
      ...props,
    });
  }

  /** Share of features that drifted in the window. */
  public metricDriftedShare(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('DriftedShare', { statistic: 'Maximum', ...props });
  }

  /** Effect size of one feature (PSI, JS distance, MMD² … as configured for it). */
  public metricFeatureEffect(feature: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'MlBlueprint/Drift',
      metricName: 'DriftEffect',
      dimensionsMap: { ...this.dimensions(), Feature: feature },
      statistic: 'Maximum',
      ...props,
    });
  }

  /** Lets a principal invoke the checker on demand (e.g. an operator role). */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvoke(grantee);
  }

  /**
   * Dimensions of the checker's EMF metrics: Powertools adds `service` (the function's POWERTOOLS_SERVICE_NAME) to
   * every metric, so alarms must include it to see any data.
   */
  private dimensions(): Record<string, string> {
    return { service: DRIFT_CHECKER_SERVICE, CaseStudy: this.props.caseStudy, Endpoint: this.props.endpointName };
  }

  private metric(name: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'MlBlueprint/Drift',
      metricName: name,
      dimensionsMap: this.dimensions(),
      ...props,
    });
  }
}
