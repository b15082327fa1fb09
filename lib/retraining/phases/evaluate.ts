/**
 * Evaluation: with a champion, both models are scored by batch transform on the same validation data (the
 * champion rebuilt from its registry package, independent of how it was deployed); the evaluate Lambda then
 * applies the promotion policy to the candidate's metrics and both scores.
 */
import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { ScoringSpec } from '../case-study';
import type { RetrainingLoopProps } from '../props';
import { invokeFunction, type LoopStates } from '../states';
import { hasInstanceStorage } from '../training-recipe';
import type { VpcConfig } from './train';

type Model = 'candidate' | 'champion';

/** Properties of an {@link EvaluatePhase}. */
export interface EvaluatePhaseProps {
  readonly states: LoopStates;
  readonly props: RetrainingLoopProps;
  readonly scoring: ScoringSpec;
  /** Applies the promotion policy (`lambdas/retraining-evaluate`). */
  readonly evaluateFunction: lambda.IFunction;
  readonly sageMakerRole: iam.IRole;
  /** @default SageMaker-managed network */
  readonly vpcConfig?: VpcConfig;
}

/**
 * `ChampionToBeat?` → (`CreateChampionModel` → `ScoreChampion` → `ScoreCandidate` →) `EvaluateCandidate`; without a
 * champion, `ScoreCandidate` still runs when the scoring spec says so (`alwaysScoreCandidate`).
 */
export class EvaluatePhase extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, p: EvaluatePhaseProps) {
    super(scope, id);
    const { states, props } = p;
    const scoresOf = (who: Model) =>
      sfn.JsonPath.format(
        `s3://${props.curatedBucket.bucketName}/datasets/{}/scores/${who}/`,
        sfn.JsonPath.stringAt('$.run.datasetId'),
      );
    const evaluate = states.guard(
      invokeFunction(
        this,
        'EvaluateCandidate',
        p.evaluateFunction,
        {
          policy: { ...props.policy },
          candidateMetrics: sfn.JsonPath.objectAt('$.training.finalMetrics'),
          champion: sfn.JsonPath.objectAt('$.champion'),
          stamp: {
            datasetId: sfn.JsonPath.stringAt('$.run.datasetId'),
            datasetStart: sfn.JsonPath.stringAt('$.run.windowStart'),
            datasetEnd: sfn.JsonPath.stringAt('$.run.windowEnd'),
            trainingJobName: sfn.JsonPath.stringAt('$.training.jobName'),
            modelName: sfn.JsonPath.stringAt('$.run.modelName'),
            trigger: sfn.JsonPath.stringAt('$.run.trigger.kind'),
          },
          scoring: {
            candidate: p.scoring.source(scoresOf('candidate'), 'candidate'),
            champion: p.scoring.source(scoresOf('champion'), 'champion'),
          },
        },
        '$.evaluation',
      ),
    );
    const createChampionModel = states.sageMaker(
      this,
      'CreateChampionModel',
      'createModel',
      {
        'ModelName.$': '$.run.championScoringJobName',
        ExecutionRoleArn: p.sageMakerRole.roleArn,
        PrimaryContainer: { 'ModelPackageName.$': '$.champion.modelPackageArn' },
        EnableNetworkIsolation: props.training.networkIsolation ?? false,
        ...(p.vpcConfig ? { VpcConfig: p.vpcConfig } : {}),
        Tags: states.tags,
      },
      [states.arn(this, 'sagemaker', `model/${props.endpointName}-*`)],
    );
    const scoreChampion = states.guard(scoringState(this, p, 'ScoreChampion', 'champion'));
    const scoreCandidate = states.guard(scoringState(this, p, 'ScoreCandidate', 'candidate'));
    const championToBeat = new sfn.Choice(this, 'ChampionToBeat?')
      .when(sfn.Condition.booleanEquals('$.champion.found', true), createChampionModel)
      .otherwise(p.scoring.alwaysScoreCandidate ? scoreCandidate : evaluate);
    createChampionModel.next(scoreChampion).next(scoreCandidate).next(evaluate);
    this.startState = championToBeat;
    this.endStates = [evaluate];
  }
}

/** A batch transform of one model over the validation data (`createTransformJob.sync`). */
function scoringState(scope: Construct, p: EvaluatePhaseProps, stateId: string, who: Model): sfn.CustomState {
  const { props, scoring, states } = p;
  const instanceType = props.serving.instanceType;
  return new sfn.CustomState(scope, stateId, {
    stateJson: {
      Type: 'Task',
      Comment: `Scores the ${who} on the validation data (batch transform)`,
      Resource: `arn:${Stack.of(scope).partition}:states:::sagemaker:createTransformJob.sync`,
      TimeoutSeconds: 3 * 3600,
      Parameters: {
        'TransformJobName.$': who === 'candidate' ? '$.run.candidateScoringJobName' : '$.run.championScoringJobName',
        'ModelName.$': who === 'candidate' ? '$.run.modelName' : '$.run.championScoringJobName',
        TransformInput: scoring.transformInput,
        TransformOutput: {
          'S3OutputPath.$': `States.Format('s3://${props.curatedBucket.bucketName}/datasets/{}/scores/${who}/', $.run.datasetId)`,
          Accept: scoring.accept,
          ...(scoring.assembleWith ? { AssembleWith: scoring.assembleWith } : {}),
          KmsKeyId: props.dataKey.keyArn,
        },
        TransformResources: {
          InstanceType: instanceType,
          InstanceCount: 1,
          ...(hasInstanceStorage(instanceType) ? {} : { VolumeKmsKeyId: props.dataKey.keyArn }),
        },
        ...(scoring.dataProcessing ? { DataProcessing: scoring.dataProcessing } : {}),
        Tags: states.tags,
      },
      ResultPath: sfn.JsonPath.DISCARD,
    },
  });
}
