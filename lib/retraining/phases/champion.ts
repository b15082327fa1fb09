/**
 * The champion: the model the endpoint actually serves (`core/retraining/champion.ts`), found through the endpoint,
 * its config (or its inference component), the served model and the registry package the loop tagged that model
 * with. A package approved for a deployment that never took is therefore never the champion. An endpoint that is
 * busy (creating, updating) is waited for, bounded; if it stays busy the run ends `skipped` before any training.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { BUSY_STATUSES, MODEL_PACKAGE_TAG } from '../../../core/retraining/champion';
import type { LoopStates } from '../states';

/** Properties of a {@link ChampionPhase}. */
export interface ChampionPhaseProps {
  readonly states: LoopStates;
  /** The endpoint (also the model package group). */
  readonly endpointName: string;
  /** Scale to zero: the model serves from this inference component, not from the endpoint config. */
  readonly inferenceComponentName?: string;
  /** Poll interval of the wait for a busy endpoint. @default Duration.minutes(1) */
  readonly pollInterval?: Duration;
  /** How long a busy endpoint is waited for before the run is skipped. @default Duration.minutes(30) */
  readonly busyTimeout?: Duration;
}

/** The statuses an endpoint passes through on its own: wait for them to end. */
export function anyStatus(path: string, statuses: readonly string[]): sfn.Condition {
  return sfn.Condition.or(...statuses.map((s) => sfn.Condition.stringEquals(path, s)));
}

/**
 * `FindChampion` → `ChampionFound?` → (busy: bounded wait, else `RecordEndpointBusy`) → `DescribeServingEndpoint` →
 * the served model (`DescribeServingConfig`, or `FindServingComponent` → `DescribeServingComponent`) →
 * `DescribeServedModel` → `ListServedModelTags` → `DescribeChampion` (→ `ReconcileChampion` when the registry does
 * not say Approved); `NoChampion` whenever nothing known serves. Either way `$.champion` is set.
 */
export class ChampionPhase extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];
  /** The bound of the busy wait, in polls (for the run's time budget). */
  public readonly maxBusyPolls: number;
  public readonly pollInterval: Duration;

  constructor(scope: Construct, id: string, props: ChampionPhaseProps) {
    super(scope, id);
    const { states, endpointName } = props;
    const sm = (resource: string) => states.arn(this, 'sagemaker', resource);
    this.pollInterval = props.pollInterval ?? Duration.minutes(1);
    this.maxBusyPolls = Math.ceil(
      (props.busyTimeout ?? Duration.minutes(30)).toSeconds() / this.pollInterval.toSeconds(),
    );

    // "Is there an endpoint?" is a List call with a name filter (NameContains also matches longer names: keep ours).
    const find = states.sageMaker(
      this,
      'FindChampion',
      'listEndpoints',
      // The exact name sorts first among names that contain it (the name is reserved for the loop).
      { NameContains: endpointName, SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 10 },
      ['*'],
      { resultSelector: { 'endpoints.$': '$.Endpoints' }, resultPath: '$.servingEndpoint' },
    );
    const noChampion = new sfn.Pass(this, 'NoChampion', {
      parameters: { found: false, 'since.$': '$.run.windowStart' },
      resultPath: '$.champion',
    });
    const busy = states.outcome(this, 'RecordEndpointBusy', {
      status: 'skipped',
      'reason.$': `States.Format('endpoint busy: ${endpointName} stayed {} for ${this.maxBusyPolls} polls; no training', $.servingEndpoint.endpoints[0].EndpointStatus)`,
      'datasetId.$': '$.run.datasetId',
    });
    const startWait = new sfn.Pass(this, 'StartEndpointWait', {
      result: sfn.Result.fromObject({ count: 0 }),
      resultPath: '$.endpointWait',
    });
    const wait = new sfn.Wait(this, 'WaitForServingEndpoint', { time: sfn.WaitTime.duration(this.pollInterval) });
    const count = new sfn.Pass(this, 'CountEndpointWait', {
      parameters: { 'count.$': 'States.MathAdd($.endpointWait.count, 1)' },
      resultPath: '$.endpointWait',
    });
    startWait.next(wait).next(count).next(find);

    const describeModel = states.sageMaker(
      this,
      'DescribeServedModel',
      'describeModel',
      { 'ModelName.$': '$.served.models[0]' },
      [sm(`model/${endpointName}-*`)],
      { resultSelector: { 'modelName.$': '$.ModelName', 'modelArn.$': '$.ModelArn' }, resultPath: '$.servedModel' },
    );
    const tags = states.sageMaker(
      this,
      'ListServedModelTags',
      'listTags',
      { 'ResourceArn.$': '$.servedModel.modelArn', MaxResults: 50 },
      [sm(`model/${endpointName}-*`)],
      {
        // The tags, and their text: whether the loop's tag is there is decided on the text, so that the filter
        // below only ever runs on a list that has a match (a filter without one is an error for some engines).
        resultSelector: { 'all.$': '$.Tags', 'text.$': 'States.JsonToString($.Tags)' },
        resultPath: '$.servedModel.tags',
      },
    );
    const pickPackage = new sfn.Pass(this, 'PickChampionPackage', {
      parameters: { 'packages.$': `$.servedModel.tags.all[?(@.Key == '${MODEL_PACKAGE_TAG}')].Value` },
      resultPath: '$.servedModel.tags.package',
    });
    const describeChampion = states.sageMaker(
      this,
      'DescribeChampion',
      'describeModelPackage',
      { 'ModelPackageName.$': '$.servedModel.tags.package.packages[0]' },
      [sm(`model-package/${endpointName}/*`)],
      {
        resultSelector: {
          found: true,
          'modelPackageArn.$': '$.ModelPackageArn',
          'status.$': '$.ModelApprovalStatus',
          'metadata.$': '$.CustomerMetadataProperties',
          'since.$': '$.CustomerMetadataProperties.datasetEnd',
        },
        resultPath: '$.champion',
      },
    );
    // The package serves, whatever the registry says (a run that failed after its update took): make them agree.
    const reconcile = states.sageMaker(
      this,
      'ReconcileChampion',
      'updateModelPackage',
      {
        'ModelPackageArn.$': '$.champion.modelPackageArn',
        ModelApprovalStatus: 'Approved',
        ApprovalDescription: `serving on ${endpointName} (reconciled by the retraining loop)`,
      },
      [sm(`model-package/${endpointName}/*`)],
    );
    const serves = new sfn.Pass(this, 'ChampionServes', { comment: 'The registry agrees: the champion is Approved.' });
    const approved = new sfn.Choice(this, 'ChampionApproved?')
      .when(sfn.Condition.stringEquals('$.champion.status', 'Approved'), serves)
      .otherwise(reconcile);

    let servedModelChain: sfn.IChainable;
    if (props.inferenceComponentName) {
      const ic = props.inferenceComponentName;
      const findComponent = states.sageMaker(
        this,
        'FindServingComponent',
        'listInferenceComponents',
        { EndpointNameEquals: endpointName, NameContains: ic, SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 10 },
        ['*'],
        {
          iamAction: 'sagemaker:ListInferenceComponents',
          resultSelector: { 'components.$': '$.InferenceComponents' },
          resultPath: '$.servingComponent',
        },
      );
      const describeComponent = states.sageMaker(
        this,
        'DescribeServingComponent',
        'describeInferenceComponent',
        { InferenceComponentName: ic },
        [sm(`inference-component/${ic}`)],
        {
          iamAction: 'sagemaker:DescribeInferenceComponent',
          resultSelector: { 'models.$': 'States.Array($.Specification.ModelName)' },
          resultPath: '$.served',
        },
      );
      findComponent.next(
        new sfn.Choice(this, 'ComponentServes?')
          .when(
            sfn.Condition.and(
              sfn.Condition.isPresent('$.servingComponent.components[0]'),
              sfn.Condition.stringEquals('$.servingComponent.components[0].InferenceComponentName', ic),
              sfn.Condition.stringEquals('$.servingComponent.components[0].InferenceComponentStatus', 'InService'),
            ),
            describeComponent,
          )
          .otherwise(noChampion),
      );
      describeComponent.next(describeModel);
      servedModelChain = findComponent;
    } else {
      const describeEndpoint = states.sageMaker(
        this,
        'DescribeServingEndpoint',
        'describeEndpoint',
        { EndpointName: endpointName },
        [sm(`endpoint/${endpointName}`)],
        { resultSelector: { 'configName.$': '$.EndpointConfigName' }, resultPath: '$.served' },
      );
      const describeConfig = states.sageMaker(
        this,
        'DescribeServingConfig',
        'describeEndpointConfig',
        { 'EndpointConfigName.$': '$.served.configName' },
        [sm(`endpoint-config/${endpointName}-*`)],
        {
          resultSelector: { 'models.$': "$.ProductionVariants[?(@.VariantName == 'AllTraffic')].ModelName" },
          resultPath: '$.served',
        },
      );
      describeEndpoint.next(describeConfig);
      describeConfig.next(
        new sfn.Choice(this, 'ServedModelKnown?')
          .when(sfn.Condition.isPresent('$.served.models[0]'), describeModel)
          .otherwise(noChampion),
      );
      servedModelChain = describeEndpoint;
    }
    describeModel.next(tags);
    tags.next(
      new sfn.Choice(this, 'ChampionPackageKnown?')
        .when(sfn.Condition.stringMatches('$.servedModel.tags.text', `*"${MODEL_PACKAGE_TAG}"*`), pickPackage)
        .otherwise(noChampion),
    );
    pickPackage.next(describeChampion);
    describeChampion.next(approved);

    const status = '$.servingEndpoint.endpoints[0].EndpointStatus';
    const ours = sfn.Condition.and(
      sfn.Condition.isPresent('$.servingEndpoint.endpoints[0]'),
      sfn.Condition.stringEquals('$.servingEndpoint.endpoints[0].EndpointName', endpointName),
    );
    const busyNow = sfn.Condition.and(ours, anyStatus(status, BUSY_STATUSES));
    find.next(
      new sfn.Choice(this, 'ChampionFound?')
        .when(sfn.Condition.and(ours, sfn.Condition.stringEquals(status, 'InService')), servedModelChain)
        .when(sfn.Condition.and(busyNow, sfn.Condition.not(sfn.Condition.isPresent('$.endpointWait'))), startWait)
        .when(sfn.Condition.and(busyNow, sfn.Condition.numberLessThan('$.endpointWait.count', this.maxBusyPolls)), wait)
        .when(busyNow, busy)
        .otherwise(noChampion),
    );
    this.startState = find;
    this.endStates = [noChampion, reconcile, serves];
  }
}
