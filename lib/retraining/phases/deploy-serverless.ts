/**
 * Deployment to a SageMaker Serverless Inference endpoint: a new endpoint config with a serverless variant (memory
 * and maximum concurrency; no data capture and no volume key, which serverless endpoints do not take), then the
 * endpoint is created (first model) or updated in place, and the loop polls it until it settles. Serverless
 * endpoints scale by themselves (to zero when idle) and take no blue/green deployment guardrails: an update that
 * fails leaves the previous config serving, which the loop records as rolled back (the champion keeps serving).
 * The caller logs what monitoring needs (e.g. an API that logs every served request with its features).
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { EndpointStates, type DeployPhaseProps } from './deploy-endpoint';

/** Variant name of the endpoint. */
const VARIANT = 'AllTraffic';

/**
 * `CreateEndpointConfig` (serverless variant) → `FindEndpoint` → `EndpointExists?` → `CreateEndpoint` or
 * `UpdateEndpoint` → poll → `EndpointSettled?`.
 */
export class DeployToServerless extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, p: DeployPhaseProps) {
    super(scope, id);
    const { states, props } = p;
    const serverless = props.serving.serverless;
    if (!serverless) throw new Error('DeployToServerless needs serving.serverless (memorySizeInMB, maxConcurrency)');
    const endpoint = new EndpointStates(
      this,
      p,
      {
        ProductionVariants: [
          {
            VariantName: VARIANT,
            'ModelName.$': '$.run.modelName',
            ServerlessConfig: { MemorySizeInMB: serverless.memorySizeInMB, MaxConcurrency: serverless.maxConcurrency },
          },
        ],
      },
      true,
    );
    const updateEndpoint = states.sageMaker(
      this,
      'UpdateEndpoint',
      'updateEndpoint',
      { EndpointName: props.endpointName, 'EndpointConfigName.$': '$.run.endpointConfigName' },
      [endpoint.endpointArn, states.arn(this, 'sagemaker', `endpoint-config/${props.endpointName}-*`)],
    );
    const rolledBack = states.setApproval(
      this,
      'MarkRolledBack',
      'Rejected',
      "States.Format('serverless update did not take; endpoint kept {}', $.endpoint.configName)",
    );
    rolledBack.next(
      states.outcome(this, 'RecordRolledBack', {
        status: 'rolled-back',
        error: 'DeploymentRolledBack',
        'cause.$':
          "States.Format('the update to {} did not take; the endpoint serves {} (the champion keeps serving)', $.run.endpointConfigName, $.endpoint.configName)",
        'reason.$': "States.Format('deployment rolled back; champion kept ({})', $.endpoint.configName)",
        'modelPackageArn.$': '$.registered.arn',
        'datasetId.$': '$.run.datasetId',
      }),
    );
    const settled = new sfn.Pass(this, 'ServerlessInService', { comment: 'scales by itself: nothing to register' });
    endpoint.countPoll.next(
      new sfn.Choice(this, 'EndpointSettled?')
        .when(
          sfn.Condition.and(
            sfn.Condition.stringEquals('$.endpoint.status', 'InService'),
            sfn.Condition.stringEqualsJsonPath('$.endpoint.configName', '$.run.endpointConfigName'),
          ),
          settled,
        )
        .when(sfn.Condition.stringEquals('$.endpoint.status', 'InService'), rolledBack)
        .when(endpoint.broken, endpoint.endpointFailed)
        .when(sfn.Condition.numberGreaterThanEquals('$.poll.count', endpoint.maxPolls), endpoint.timedOut)
        .otherwise(endpoint.wait),
    );
    const exists = endpoint.exists(this, props, updateEndpoint, endpoint.createEndpoint);
    updateEndpoint.next(endpoint.startPolling);
    endpoint.createConfig.next(endpoint.findEndpoint).next(exists);
    this.startState = endpoint.createConfig;
    this.endStates = [settled];
  }
}
