/**
 * State helpers every phase of the retraining loop shares: retries of transient errors, the guard that sends every
 * other error to `RecordFailure`, outcomes (which all lead to the notification), and the two task shapes the loop
 * calls most (a SageMaker API call, an Athena query).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/** Errors of AWS services that a retry with backoff usually cures. */
const TRANSIENT_ERRORS = [
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'RequestLimitExceeded',
  'SageMaker.ThrottlingException',
  'SageMaker.AmazonSageMakerException',
  'SageMaker.InternalFailure',
  'Athena.TooManyRequestsException',
  'Athena.InternalServerException',
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.ThrottlingException',
  'DynamoDB.InternalServerErrorException',
  'DynamoDB.RequestLimitExceeded',
  'SNS.ThrottledException',
  'SNS.InternalErrorException',
  'ApplicationAutoScaling.ConcurrentUpdateException',
  'ApplicationAutoScaling.InternalServiceException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
];

/** A state that retries and catches. */
export type TaskState = sfn.TaskStateBase | sfn.CustomState;

/** Backoff of {@link retryTransient}: 6 attempts with full jitter, doubling from `interval` up to `maxDelay`. */
export interface TransientRetryOptions {
  /** @default Duration.seconds(2) */
  readonly interval?: Duration;
  /** @default Duration.minutes(1) */
  readonly maxDelay?: Duration;
}

/** Retries transient AWS errors with jittered exponential backoff (the caller adds its catchers). */
export function retryTransient<T extends TaskState>(state: T, options: TransientRetryOptions = {}): T {
  state.addRetry({
    errors: TRANSIENT_ERRORS,
    interval: options.interval ?? Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: options.maxDelay ?? Duration.minutes(1),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return state;
}

/**
 * A loop Lambda invoked with a payload (JSONPath values allowed), its response at `resultPath`. Lambda's own service
 * retries are off: the loop's retrier (with jitter, {@link retryTransient}) or the caller's catch covers errors.
 */
export function invokeFunction(
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  payload: Record<string, unknown>,
  resultPath: string,
  resultSelector?: Record<string, unknown>,
): tasks.LambdaInvoke {
  return new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject(payload),
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    ...(resultSelector ? { resultSelector } : {}),
    resultPath,
  });
}

/**
 * `States.Format('<template>', <paths>)` with the template quoted as the intrinsic-function grammar requires
 * (`'` and `\` escaped; `{}` are the placeholders).
 */
function formatIntrinsic(template: string, ...paths: string[]): string {
  const quoted = template.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  if (paths.length === 0) return `States.Format('${quoted}')`;
  const placeholders = template.split('{}').length - 1;
  if (placeholders !== paths.length) {
    throw new Error(`template has ${placeholders} placeholders but ${paths.length} paths were given: ${template}`);
  }
  return `States.Format('${quoted}', ${paths.join(', ')})`;
}

/** Properties of {@link LoopStates}. */
export interface LoopStatesProps {
  /** Fields every outcome carries first (case study, stage, endpoint, execution name). */
  readonly common: Readonly<Record<string, unknown>>;
  /** Where every outcome goes: the notification. */
  readonly notify: sfn.IChainable;
  /** The endpoint of the loop (its model package group has the same name). */
  readonly endpointName: string;
  /** Glue database and Athena workgroup of the queries. */
  readonly databaseName: string;
  readonly workGroupName: string;
}

/** The loop's shared state builders, bound to its failure path and notification. */
export class LoopStates {
  /** Every guarded task catches its errors into this outcome. */
  public readonly recordFailure: sfn.Pass;
  /** Fields every outcome carries first. */
  public readonly common: Readonly<Record<string, unknown>>;
  /**
   * Tags of what a run creates (training and transform jobs, models, packages, endpoint configs, endpoints,
   * components): its dataset ID — what the sandbox teardown finds them by — and the stack's stage and case study,
   * so that cost allocation by tag covers them as it covers the stacks' own resources.
   */
  public readonly tags: ReadonlyArray<Record<string, string>>;

  constructor(
    scope: Construct,
    private readonly props: LoopStatesProps,
  ) {
    this.common = props.common;
    this.tags = [
      { Key: 'ml-blueprint:dataset-id', 'Value.$': '$.run.datasetId' },
      { Key: 'ml-blueprint:case-study', Value: String(props.common.caseStudy) },
      { Key: 'ml-blueprint:stage', Value: String(props.common.stage) },
    ];
    this.recordFailure = this.outcome(scope, 'RecordFailure', {
      status: 'failed',
      reason: 'the retraining run failed',
      'error.$': '$.error.Error',
      'cause.$': '$.error.Cause',
    });
  }

  /** `arn:<partition>:<service>:<region>:<account>:<resource>` of the stack. */
  public arn(scope: Construct, service: string, resource: string): string {
    const stack = Stack.of(scope);
    return `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
  }

  /** Retries transient errors and catches the rest into {@link recordFailure}. */
  public guard<T extends TaskState>(state: T): T {
    retryTransient(state);
    state.addCatch(this.recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    return state;
  }

  /** The run's outcome (`$.outcome`, the common fields first), followed by the notification. */
  public outcome(scope: Construct, stateId: string, fields: Record<string, unknown>): sfn.Pass {
    const pass = new sfn.Pass(scope, stateId, {
      parameters: { ...this.props.common, ...fields },
      resultPath: '$.outcome',
    });
    pass.next(this.props.notify);
    return pass;
  }

  /** A guarded SageMaker API call; its result is discarded unless `extra` says otherwise. */
  public sageMaker(
    scope: Construct,
    stateId: string,
    action: string,
    parameters: Record<string, unknown>,
    resources: string[],
    extra: Partial<tasks.CallAwsServiceProps> = {},
  ): tasks.CallAwsService {
    return this.guard(
      new tasks.CallAwsService(scope, stateId, {
        service: 'sagemaker',
        action,
        parameters,
        iamResources: resources,
        resultPath: sfn.JsonPath.DISCARD,
        ...extra,
      }),
    );
  }

  /** Sets the approval status of the registered package (`$.registered.arn`). */
  public setApproval(
    scope: Construct,
    stateId: string,
    status: 'Approved' | 'Rejected',
    description: string,
  ): tasks.CallAwsService {
    return this.sageMaker(
      scope,
      stateId,
      'updateModelPackage',
      { 'ModelPackageArn.$': '$.registered.arn', ModelApprovalStatus: status, 'ApprovalDescription.$': description },
      [this.arn(scope, 'sagemaker', `model-package/${this.props.endpointName}/*`)],
    );
  }

  /**
   * Marks the registered package (`$.registered.arn`) `Rejected` with how its deployment ended and why, in its
   * metadata (`deployment`, `deploymentReason`): a package that never served is never left Approved
   * (`core/retraining/champion.ts`, `packageVerdict`).
   */
  public markPackage(
    scope: Construct,
    stateId: string,
    result: 'failed' | 'timed-out' | 'skipped' | 'approval-timed-out',
    reason: string,
  ): tasks.CallAwsService {
    const reasonField =
      reason.startsWith('States.') || reason.startsWith('$')
        ? { 'deploymentReason.$': reason }
        : { deploymentReason: reason };
    return this.sageMaker(
      scope,
      stateId,
      'updateModelPackage',
      {
        'ModelPackageArn.$': '$.registered.arn',
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription: `not deployed: ${result}`,
        CustomerMetadataProperties: { deployment: result, ...reasonField },
      },
      [this.arn(scope, 'sagemaker', `model-package/${this.props.endpointName}/*`)],
    );
  }

  /**
   * A guarded Athena query through the service integration directly (not the L2 task, whose generated policy
   * grants S3 and Glue write actions on every resource; the loop's grants are in `permissions.ts`). `query` holds a
   * `{}` placeholder per path, filled in at run time.
   */
  public athena(
    scope: Construct,
    stateId: string,
    resultPath: string,
    query: string,
    ...paths: string[]
  ): sfn.CustomState {
    return this.guard(
      new sfn.CustomState(scope, stateId, {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${Stack.of(scope).partition}:states:::athena:startQueryExecution.sync`,
          TimeoutSeconds: 1800,
          Parameters: {
            'QueryString.$': formatIntrinsic(query, ...paths),
            QueryExecutionContext: { Database: this.props.databaseName, Catalog: 'AwsDataCatalog' },
            WorkGroup: this.props.workGroupName,
          },
          ResultSelector: {
            'id.$': '$.QueryExecution.QueryExecutionId',
            'outputUri.$': '$.QueryExecution.ResultConfiguration.OutputLocation',
          },
          ResultPath: resultPath,
        },
      }),
    );
  }
}
