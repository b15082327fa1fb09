/**
 * Training: a SageMaker training job on the dataset (managed spot with checkpoints when configured), then the
 * candidate's model, which evaluation scores and deployment serves.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { RetrainingLoopProps } from '../props';
import { retryTransient, type LoopStates } from '../states';
import { hasInstanceStorage } from '../training-recipe';

/** Network placement of training jobs and models (`VpcConfig`). */
export interface VpcConfig {
  readonly SecurityGroupIds: string[];
  readonly Subnets: string[];
}

/** Properties of a {@link TrainPhase}. */
export interface TrainPhaseProps {
  readonly states: LoopStates;
  readonly props: RetrainingLoopProps;
  /** The role SageMaker assumes. */
  readonly sageMakerRole: iam.IRole;
  /** @default SageMaker-managed network */
  readonly vpcConfig?: VpcConfig;
}

/** `TrainCandidate` → `CreateModel`. */
export class TrainPhase extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, p: TrainPhaseProps) {
    super(scope, id);
    const { states, props } = p;
    const training = retryTransient(trainingState(this, p), {
      interval: Duration.seconds(5),
      maxDelay: Duration.minutes(2),
    });
    // A failed job is retried once with a fresh name (the retry count is part of the job name).
    training.addRetry({
      errors: ['States.TaskFailed'],
      interval: Duration.minutes(1),
      backoffRate: 2,
      maxAttempts: 1,
      jitterStrategy: sfn.JitterType.FULL,
    });
    training.addCatch(states.recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    const createModel = states.sageMaker(
      this,
      'CreateModel',
      'createModel',
      {
        'ModelName.$': '$.run.modelName',
        ExecutionRoleArn: p.sageMakerRole.roleArn,
        PrimaryContainer: {
          Image: props.recipe.inferenceImage ?? props.recipe.image,
          'ModelDataUrl.$': '$.training.modelArtifacts',
          ...(props.recipe.modelEnvironment ? { Environment: props.recipe.modelEnvironment } : {}),
        },
        EnableNetworkIsolation: props.training.networkIsolation ?? false,
        ...(p.vpcConfig ? { VpcConfig: p.vpcConfig } : {}),
        Tags: states.tags,
      },
      [states.arn(this, 'sagemaker', `model/${props.endpointName}-*`)],
      { resultSelector: { 'arn.$': '$.ModelArn' }, resultPath: '$.candidateModel' },
    );
    training.next(createModel);
    this.startState = training;
    this.endStates = [createModel];
  }
}

/** The training job (`createTrainingJob.sync` through a custom state: the L2 task has no spot or checkpoints). */
function trainingState(scope: Construct, p: TrainPhaseProps): sfn.CustomState {
  const { props, states } = p;
  const t = props.training;
  const recipe = props.recipe;
  const maxRuntime = t.maxRuntime.toSeconds();
  const maxWait = t.maxWait.toSeconds();
  const channels = recipe.channels.map((c) => ({
    ChannelName: c.name,
    ContentType: c.contentType,
    ...(c.recordWrapperType ? { RecordWrapperType: c.recordWrapperType } : {}),
    DataSource: {
      S3DataSource: {
        S3DataType: c.s3DataType,
        'S3Uri.$': c.name === 'train' ? '$.dataset.trainUri' : '$.dataset.validationUri',
        S3DataDistributionType: 'FullyReplicated',
        ...(c.attributeNames ? { AttributeNames: c.attributeNames } : {}),
      },
    },
  }));
  return new sfn.CustomState(scope, 'TrainCandidate', {
    stateJson: {
      Type: 'Task',
      Comment: `Trains the candidate on ${t.instanceCount} × ${t.instanceType}${t.useSpot ? ' (managed spot)' : ''}`,
      Resource: `arn:${Stack.of(scope).partition}:states:::sagemaker:createTrainingJob.sync`,
      TimeoutSeconds: (t.useSpot ? maxWait : maxRuntime) + 3600,
      Parameters: {
        'TrainingJobName.$': "States.Format('{}-{}', $.run.trainingJobName, $$.State.RetryCount)",
        RoleArn: p.sageMakerRole.roleArn,
        AlgorithmSpecification: {
          TrainingImage: recipe.image,
          TrainingInputMode: recipe.inputMode,
          MetricDefinitions: recipe.metricDefinitions.map((m) => ({ Name: m.name, Regex: m.regex })),
          EnableSageMakerMetricsTimeSeries: true,
        },
        'HyperParameters.$': '$.dataset.hyperparameters',
        // Channels decided per run by the dataset states (e.g. the champion to fine-tune from), or the recipe's.
        ...(recipe.inputDataConfigPath
          ? { 'InputDataConfig.$': recipe.inputDataConfigPath }
          : { InputDataConfig: channels }),
        OutputDataConfig: {
          S3OutputPath: `s3://${props.artifactsBucket.bucketName}/models/`,
          KmsKeyId: props.dataKey.keyArn,
        },
        ResourceConfig: {
          InstanceType: t.instanceType,
          InstanceCount: t.instanceCount,
          VolumeSizeInGB: t.volumeSize.toGibibytes(),
          ...(hasInstanceStorage(t.instanceType) ? {} : { VolumeKmsKeyId: props.dataKey.keyArn }),
        },
        StoppingCondition: {
          MaxRuntimeInSeconds: maxRuntime,
          ...(t.useSpot ? { MaxWaitTimeInSeconds: maxWait } : {}),
        },
        EnableManagedSpotTraining: t.useSpot,
        ...(t.useSpot
          ? {
              CheckpointConfig: {
                'S3Uri.$': `States.Format('s3://${props.artifactsBucket.bucketName}/checkpoints/{}/', $.run.datasetId)`,
              },
            }
          : {}),
        EnableInterContainerTrafficEncryption: t.instanceCount > 1,
        EnableNetworkIsolation: t.networkIsolation ?? false,
        ...(p.vpcConfig ? { VpcConfig: p.vpcConfig } : {}),
        Tags: states.tags,
      },
      ResultSelector: {
        'jobName.$': '$.TrainingJobName',
        'modelArtifacts.$': '$.ModelArtifacts.S3ModelArtifacts',
        'finalMetrics.$': '$.FinalMetricDataList',
        'status.$': '$.TrainingJobStatus',
      },
      ResultPath: '$.training',
    },
  });
}
