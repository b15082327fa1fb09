/**
 * The champion: the newest approved package of the model package group, if any. Its metadata says since when new
 * data counts and what the candidate has to beat.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { LoopStates } from '../states';

/** Properties of a {@link ChampionPhase}. */
export interface ChampionPhaseProps {
  readonly states: LoopStates;
  /** The model package group (the endpoint's name). */
  readonly endpointName: string;
}

/** `FindChampion` → `ChampionFound?` → `DescribeChampion` or `NoChampion`; either way `$.champion` is set. */
export class ChampionPhase extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: ChampionPhaseProps) {
    super(scope, id);
    const { states } = props;
    const findChampion = states.sageMaker(
      this,
      'FindChampion',
      'listModelPackages',
      {
        ModelPackageGroupName: props.endpointName,
        // Only an approved package can be the champion.
        ModelApprovalStatus: 'Approved',
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: 1,
      },
      ['*'],
      { resultSelector: { 'packages.$': '$.ModelPackageSummaryList' }, resultPath: '$.championSearch' },
    );
    const describeChampion = states.sageMaker(
      this,
      'DescribeChampion',
      'describeModelPackage',
      { 'ModelPackageName.$': '$.championSearch.packages[0].ModelPackageArn' },
      [states.arn(this, 'sagemaker', `model-package/${props.endpointName}/*`)],
      {
        resultSelector: {
          found: true,
          'modelPackageArn.$': '$.ModelPackageArn',
          'metadata.$': '$.CustomerMetadataProperties',
          'since.$': '$.CustomerMetadataProperties.datasetEnd',
        },
        resultPath: '$.champion',
      },
    );
    const noChampion = new sfn.Pass(this, 'NoChampion', {
      parameters: { found: false, 'since.$': '$.run.windowStart' },
      resultPath: '$.champion',
    });
    findChampion.next(
      new sfn.Choice(this, 'ChampionFound?')
        .when(sfn.Condition.isPresent('$.championSearch.packages[0]'), describeChampion)
        .otherwise(noChampion),
    );
    this.startState = findChampion;
    this.endStates = [describeChampion, noChampion];
  }
}
