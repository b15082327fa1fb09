import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { BlueprintFunction } from '../../constructs/blueprint-function';
import type { FeatureStore } from './feature-store';

/** Properties of a {@link RecommendApi}. */
export interface RecommendApiProps {
  /** Case study and stage, for the function's environment. */
  readonly caseStudy: string;
  readonly stage: string;
  /** Endpoint scored on (`mlbp-<stage>-<case>`; created by the retraining loop, may not exist yet). */
  readonly endpointName: string;
  readonly featureStore: FeatureStore;
  /** Give up on the endpoint after this long and serve the popularity fallback. */
  readonly invokeTimeout: Duration;
  /** Candidates scored per request. */
  readonly candidates: number;
  /** Largest k a caller may ask for. */
  readonly maxK: number;
  /** Recent interactions read per user. */
  readonly recentItemsPerUser: number;
  /** Same bucket as the stream consumer's popularity counters. */
  readonly popularityBucket: Duration;
  /** Predictions are kept this long for the feedback join. */
  readonly predictionTtl: Duration;
  /** Key of the function's logs and environment. */
  readonly encryptionKey: kms.IKey;
  /** @default no reservation */
  readonly reservedConcurrentExecutions?: number;
  /** Where every served slate is logged (the event stream; the lake gets it from there). @default not logged */
  readonly slateStream?: kinesis.IStream;
  /** Shares of the candidate budget of co-visitation and fresh items. @default covisit 0.4, fresh 0.2 */
  readonly candidateQuotas?: { readonly covisit: number; readonly fresh: number };
  /** Last slate positions kept for fresh items. @default 1 */
  readonly freshSlots?: number;
}

/**
 * The `recommend` API: a Lambda function URL with IAM auth (callers need `lambda:InvokeFunctionUrl`, see
 * {@link grantInvokeUrl}) taking `userId` and `k`. It builds features from the feature store, scores candidates on
 * the SageMaker endpoint within a tight timeout and falls back to the popularity ranking on timeout, throttling,
 * error or a missing endpoint. Every response carries an inference id.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html
 */
export class RecommendApi extends Construct {
  /** The serving function. */
  public readonly function: BlueprintFunction;
  /** The IAM-authenticated function URL. */
  public readonly url: lambda.FunctionUrl;
  private readonly endpointName: string;

  constructor(scope: Construct, id: string, props: RecommendApiProps) {
    super(scope, id);
    this.endpointName = props.endpointName;
    const timeoutMs = props.invokeTimeout.toMilliseconds();
    if (props.maxK > props.candidates) {
      throw new Error(`maxK must be at most candidates (${props.candidates}); received ${props.maxK}`);
    }
    if (timeoutMs < 20 || timeoutMs > 10_000) {
      throw new Error(`invokeTimeout must be between 20 and 10000 ms; received ${timeoutMs}`);
    }

    this.function = new BlueprintFunction(this, 'Function', {
      handlerDir: 'recommend',
      description: `recommend API: ${props.endpointName} with popularity fallback`,
      encryptionKey: props.encryptionKey,
      // Features + one model call + one write; the model call is bounded by invokeTimeout.
      timeout: Duration.seconds(Math.max(5, Math.ceil(timeoutMs / 1000) + 3)),
      memorySize: 1024,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        CASE_STUDY: props.caseStudy,
        STAGE: props.stage,
        TABLE_NAME: props.featureStore.table.tableName,
        ENDPOINT_NAME: props.endpointName,
        INVOKE_TIMEOUT_MS: String(timeoutMs),
        CANDIDATES: String(props.candidates),
        MAX_K: String(props.maxK),
        RECENT_ITEMS_PER_USER: String(props.recentItemsPerUser),
        POPULARITY_BUCKET_MINUTES: String(props.popularityBucket.toMinutes()),
        FEATURE_TTL_HOURS: String(props.predictionTtl.toHours()),
        POWERTOOLS_METRICS_NAMESPACE: 'MlBlueprint/Recommender',
        ...(props.slateStream ? { SLATE_STREAM_NAME: props.slateStream.streamName } : {}),
        ...(props.candidateQuotas
          ? { CANDIDATE_QUOTAS: `covisit=${props.candidateQuotas.covisit},fresh=${props.candidateQuotas.fresh}` }
          : {}),
        ...(props.freshSlots !== undefined ? { FRESH_SLOTS: String(props.freshSlots) } : {}),
      },
    });
    props.slateStream?.grantWrite(this.function);
    this.url = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    props.featureStore.grantReadWriteData(this.function);
    const endpointArn = Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'endpoint',
      resourceName: props.endpointName,
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeAndDescribeTheCaseStudyEndpoint',
        actions: ['sagemaker:InvokeEndpoint', 'sagemaker:DescribeEndpoint'],
        resources: [endpointArn],
      }),
    );
  }

  /** Lets a principal call the API (`lambda:InvokeFunctionUrl` with IAM auth). */
  public grantInvokeUrl(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvokeUrl(grantee);
  }

  /** Share of responses that were the popularity fallback (average of a 0/1 metric). */
  public metricFallbackRate(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Fallback', { statistic: 'Average', ...props });
  }

  /** End-to-end latency of the handler (features, model, prediction write). */
  public metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Latency', { statistic: 'p99', ...props });
  }

  /** Latency of the model call alone (successful calls). */
  public metricModelLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ModelLatency', { statistic: 'p99', ...props });
  }

  /** Requests that failed (HTTP 500: the feature store could not be read). */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Errors', { statistic: 'Sum', ...props });
  }

  /** Requests served. */
  public metricRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Requests', { statistic: 'Sum', ...props });
  }

  private metric(name: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'MlBlueprint/Recommender',
      metricName: name,
      // Powertools adds the `service` dimension (the handler folder) to every metric.
      dimensionsMap: { service: 'recommend', Endpoint: this.endpointName },
      period: Duration.minutes(5),
      ...props,
    });
  }
}
