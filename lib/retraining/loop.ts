import { Annotations, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DRIFT_DETAIL_TYPE, DRIFT_EVENT_SOURCE } from '../../core/contracts/drift-events';
import { backoffSchedule } from '../../core/retraining/backoff';
import { minimumLockTtlHours, runBudgetHours, type RunBounds } from '../../core/retraining/run-budget';
import { caseStudyOf } from '../case-studies';
import { BlueprintFunction } from '../constructs/blueprint-function';
import { acknowledgeNag, nagArnName } from '../nag';
import { grantLoopFunctions, grantReferencesFunction, grantStateMachine } from './permissions';
import { ChampionPhase } from './phases/champion';
import { DatasetPhase } from './phases/dataset';
import { DeployToInferenceComponent } from './phases/deploy-component';
import { DeployToEndpoint } from './phases/deploy-endpoint';
import { DeployToServerless } from './phases/deploy-serverless';
import { EvaluatePhase } from './phases/evaluate';
import { FinishPhase, RunEnd } from './phases/finish';
import { LOCK_EXPIRY, LOCK_KEY, LockPhase } from './phases/lock';
import { RegisterPhase } from './phases/register';
import { TrainPhase } from './phases/train';
import { DEFAULT_BACKOFF, type RetrainingLoopProps } from './props';
import { sageMakerExecution } from './sagemaker-role';
import { inferenceComponentPlan } from './serving-plan';
import { LoopStates } from './states';

/**
 * The retraining loop of one case study: a Standard Step Functions workflow that, from a `ModelDriftDetected` event,
 * a schedule or a person, locks the model, builds a dataset with Athena, trains on GPU, evaluates the candidate
 * against the champion, registers it, waits for approval when configured, deploys it (create, or blue/green canary
 * with auto-rollback; or an inference component that scales to zero), registers autoscaling, refreshes the drift
 * baseline, notifies and releases the lock. Every task retries transient errors with jittered backoff; every
 * failure notifies with its cause, releases the lock and fails the execution. One file per phase in `phases/`;
 * what differs between case studies comes from `props.study`. See docs/retraining.md.
 */
export class RetrainingLoop extends Construct {
  /** The workflow. */
  public readonly stateMachine: sfn.StateMachine;
  /** Per-model lock (and nothing else). */
  public readonly lockTable: dynamodb.TableV2;
  /** Role SageMaker assumes for training and hosting. */
  public readonly sageMakerRole: iam.Role;
  /** Model registry group of the case study. */
  public readonly modelPackageGroup: sagemaker.CfnModelPackageGroup;
  /** Routes `ModelDriftDetected` of this endpoint to the workflow. */
  public readonly driftRule: events.Rule;
  /** Scheduled retraining, when configured. */
  public readonly scheduleRule?: events.Rule;
  /** Execution log group. */
  public readonly logGroup: logs.LogGroup;
  /** Failed or timed-out executions. */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** The Lambdas of the loop, by role. */
  public readonly functions: Readonly<Record<string, BlueprintFunction>>;
  /** Security group of training jobs and the model, when a VPC is given. */
  public readonly securityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: RetrainingLoopProps) {
    super(scope, id);
    validate(props);
    const component = inferenceComponentPlan(props.servingPlan);
    if (props.serving.minCapacity === 0 && !component && !props.serving.serverless) {
      Annotations.of(this).addWarningV2(
        'ml-blueprint:minCapacityZero',
        'serving.minCapacity is 0, but instance-based SageMaker variants cannot scale below 1 instance: autoscaling registers a minimum of 1 (scale to zero needs inference components).',
      );
    }
    const study = props.study ?? caseStudyOf(props.caseStudy).retraining();
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    // Stateful pieces: lock table, model registry group.
    this.lockTable = new dynamodb.TableV2(this, 'LockTable', {
      partitionKey: { name: LOCK_KEY, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.opsKey),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: LOCK_EXPIRY,
      removalPolicy,
    });
    this.modelPackageGroup = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: props.endpointName,
      modelPackageGroupDescription: `ml-blueprint ${props.stage} ${props.caseStudy}: candidates, champions and rejects`,
    });
    const sageMaker = sageMakerExecution(this, props, study.rawInputPrefixes ?? []);
    this.sageMakerRole = sageMaker.role;
    this.securityGroup = sageMaker.securityGroup;

    // Lambdas: plan the run, apply the promotion policy, refresh the drift baseline.
    const fn = (fnId: string, handlerDir: string, description: string, timeout?: Duration, memorySize?: number) =>
      new BlueprintFunction(this, fnId, { handlerDir, description, encryptionKey: props.opsKey, timeout, memorySize });
    const planFn = fn('PlanFunction', 'retraining-plan', `Plans a retraining run of ${props.endpointName}`);
    const evaluateSpec = study.evaluateFunction?.(props.endpointName);
    const evaluateFn = evaluateSpec
      ? new BlueprintFunction(this, 'EvaluateFunction', { ...evaluateSpec, encryptionKey: props.opsKey })
      : fn(
          'EvaluateFunction',
          'retraining-evaluate',
          `Champion/challenger evaluation for ${props.endpointName}`,
          Duration.minutes(10), // reads every transform output of the validation set
          1024,
        );
    const baselineFn = new BlueprintFunction(this, 'BaselineFunction', {
      ...study.baselineFunction(props.endpointName),
      encryptionKey: props.opsKey,
    });
    const referencesFn = fn(
      'ReferencesFunction',
      'retraining-references',
      `Writes the CTR and quality references of the model deployed on ${props.endpointName}`,
    );
    grantLoopFunctions(props, study.rawInputPrefixes ?? [], evaluateFn, baselineFn, evaluateSpec !== undefined);
    grantReferencesFunction(props, referencesFn, DRIFT_STATE_PREFIX);
    // Script mode: the training code's archive; a separate inference image.
    props.recipe.grantRead?.(this.sageMakerRole);
    if (props.recipe.inferenceRepositoryArn) {
      this.sageMakerRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'PullInferenceImage',
          actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
          resources: [props.recipe.inferenceRepositoryArn],
        }),
      );
    }

    // The workflow, phase by phase. Phases are built in the order their states were first written (which keeps
    // the rendered definition stable); the chain below is the order of a run.
    const end = new RunEnd(this, 'End', {
      backoffSchedule: backoffSchedule(props.backoff ?? DEFAULT_BACKOFF),
      lockTable: this.lockTable,
      endpointName: props.endpointName,
      topic: props.topic,
      subject: `ml-blueprint ${props.stage} ${props.caseStudy}: retraining run ended`,
    });
    const states = new LoopStates(this, {
      common: {
        caseStudy: props.caseStudy,
        stage: props.stage,
        endpointName: props.endpointName,
        'executionName.$': '$$.Execution.Name',
      },
      notify: end,
      endpointName: props.endpointName,
      databaseName: props.databaseName,
      workGroupName: props.workGroupName,
    });
    const lock = new LockPhase(this, 'Lock', {
      topic: props.topic,
      subject: `ml-blueprint ${props.stage} ${props.caseStudy}: retraining run ended`,
      states,
      lockTable: this.lockTable,
      planFunction: planFn,
      endpointName: props.endpointName,
      datasetWindow: props.datasetWindow,
      lockTtl: props.lockTtl,
    });
    const champion = new ChampionPhase(this, 'Champion', {
      states,
      endpointName: props.endpointName,
      inferenceComponentName: component?.name,
      pollInterval: props.pollInterval,
    });
    const dataset = new DatasetPhase(this, 'Dataset', { states, study, props, loop: this, lockTable: this.lockTable });
    const sageMakerRole = this.sageMakerRole;
    const train = new TrainPhase(this, 'Train', { states, props, sageMakerRole, vpcConfig: sageMaker.vpcConfig });
    const evaluate = new EvaluatePhase(this, 'Evaluate', {
      states,
      props,
      scoring: study.scoring,
      evaluateFunction: evaluateFn,
      sageMakerRole,
      vpcConfig: sageMaker.vpcConfig,
    });
    const finish = new FinishPhase(this, 'Finish', {
      states,
      baselineFunction: baselineFn,
      baselinePayload: study.baselinePayload(props),
      referencesFunction: referencesFn,
      referencesPayload: {
        artifactsBucket: props.artifactsBucket.bucketName,
        endpointName: props.endpointName,
        statePrefix: DRIFT_STATE_PREFIX,
        champion: sfn.JsonPath.objectAt('$.champion'),
        modelVersion: sfn.JsonPath.stringAt('$.training.jobName'),
      },
      deployed: component
        ? { 'modelName.$': '$.run.modelName', inferenceComponentName: component.name }
        : { 'endpointConfigName.$': '$.run.endpointConfigName' },
    });
    const deploy = component
      ? new DeployToInferenceComponent(this, 'Deploy', { states, props, sageMakerRole, plan: component })
      : props.serving.serverless
        ? new DeployToServerless(this, 'Deploy', { states, props, sageMakerRole })
        : new DeployToEndpoint(this, 'Deploy', { states, props, sageMakerRole });
    const register = new RegisterPhase(this, 'Register', { states, props, modelMetrics: study.modelMetrics });
    const run = lock.next(champion).next(dataset).next(train).next(evaluate).next(register).next(deploy).next(finish);
    this.functions = {
      plan: planFn,
      evaluate: evaluateFn,
      baseline: baselineFn,
      references: referencesFn,
      ...dataset.functions,
    };

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.opsKey,
      retention: props.logRetention ?? logs.RetentionDays.SIX_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: `ml-blueprint ${props.stage} ${props.caseStudy}: retraining loop of ${props.endpointName}`,
      definitionBody: sfn.DefinitionBody.fromChainable(run),
      stateMachineType: sfn.StateMachineType.STANDARD,
      // Above the sum of the run's bounded waits; the lock outlives it (validated).
      timeout: runTimeout(props),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // ReadLock's holder is an execution of this state machine: a policy of its own (the role's default policy
    // cannot name the state machine that depends on it).
    const holderArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const lockHolders = new iam.Policy(this, 'LockHolderPolicy', {
      roles: [this.stateMachine.role],
      statements: [new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [holderArn] })],
    });
    acknowledgeNag(
      lockHolders,
      `IAM5[Resource::${nagArnName(lockHolders, holderArn)}]`,
      'Executions of this state machine are named at run time; the lock holder is one of them.',
    );
    grantStateMachine({
      props,
      stateMachine: this.stateMachine,
      sageMakerRole,
      functions: this.functions,
      component,
    });

    // Triggers and alarms.
    this.driftRule = new events.Rule(this, 'DriftRule', {
      description: `Retrains ${props.endpointName} when its drift checker reports drift`,
      eventPattern: {
        source: [DRIFT_EVENT_SOURCE],
        detailType: [DRIFT_DETAIL_TYPE],
        detail: { endpointName: [props.endpointName] },
      },
    });
    this.driftRule.addTarget(
      new targets.SfnStateMachine(this.stateMachine, {
        input: events.RuleTargetInput.fromObject({
          trigger: {
            kind: 'drift',
            reason: events.EventField.fromPath('$.detail.reason'),
            detail: events.EventField.fromPath('$.detail'),
          },
        }),
        retryAttempts: 3,
      }),
    );
    if (props.schedule) {
      this.scheduleRule = new events.Rule(this, 'ScheduleRule', {
        description: `Retrains ${props.endpointName} every ${props.schedule.toHumanString()}`,
        schedule: events.Schedule.rate(props.schedule),
      });
      this.scheduleRule.addTarget(
        new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({
            trigger: { kind: 'schedule', reason: `scheduled retraining (every ${props.schedule.toHumanString()})` },
          }),
          retryAttempts: 3,
        }),
      );
    }
    this.failureAlarm = new cloudwatch.Alarm(this, 'FailuresAlarm', {
      alarmDescription: `Retraining of ${props.endpointName} failed, timed out or was rolled back. Runbook: docs/runbooks/retraining-failed.md`,
      metric: new cloudwatch.MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: this.stateMachine.metricFailed({ statistic: 'Sum' }),
          timedOut: this.stateMachine.metricTimedOut({ statistic: 'Sum' }),
          aborted: this.stateMachine.metricAborted({ statistic: 'Sum' }),
        },
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failureAlarm.addAlarmAction(new cwActions.SnsAction(props.topic));
  }

  /** Lets a principal (an operator role, the CLIs) start runs. */
  public grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /** Lets a principal approve or reject models waiting for approval. */
  public grantTaskResponse(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantTaskResponse(grantee);
  }

  /** Executions that started. */
  public metricStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricStarted(props);
  }

  /** Executions that failed (rolled-back deployments included). */
  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed(props);
  }

  /** Executions that succeeded (deployed, or ended without deploying). */
  public metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricSucceeded(props);
  }

  /** Execution time. */
  public metricTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricTime(props);
  }

  /** The evaluate Lambda reads datasets; the baseline Lambda reads them (and the raw inputs) and writes baselines. */
}

/** Where the drift checker keeps its state (`core/drift/checker-settings.ts`, `STATE_PREFIX`). */
const DRIFT_STATE_PREFIX = 'drift/state/';

/** What bounds a run of this loop (`core/retraining/run-budget.ts`). */
export function runBounds(props: RetrainingLoopProps): RunBounds {
  const t = props.training;
  return {
    trainingHours: (t.useSpot ? t.maxWait : t.maxRuntime).toHours({ integral: false }),
    approvalHours: props.approval === 'manual' ? props.approvalTimeout.toHours({ integral: false }) : 0,
    deployMinutes: props.deployTimeout.toMinutes({ integral: false }),
  };
}

/** The state machine's timeout: the sum of the run's bounded waits. */
function runTimeout(props: RetrainingLoopProps): Duration {
  return Duration.hours(runBudgetHours(runBounds(props)));
}

function validate(props: RetrainingLoopProps): void {
  const minimum = minimumLockTtlHours(runBounds(props));
  if (props.lockTtl.toHours({ integral: false }) < minimum) {
    throw new Error(
      `lockTtl must be at least ${minimum} hours (the run's bounded waits, ${minimum - 1} hours, plus one), or a deployment could outlive its lock; received ${props.lockTtl.toHumanString()}`,
    );
  }
  const t = props.training;
  if (t.useSpot && t.maxWait.toSeconds() < t.maxRuntime.toSeconds()) {
    throw new Error(
      `training.maxWait must be at least training.maxRuntime with spot training; received ${t.maxWait.toHumanString()} < ${t.maxRuntime.toHumanString()}`,
    );
  }
  if (props.serving.maxCapacity < Math.max(1, props.serving.minCapacity)) {
    throw new Error(
      `serving.maxCapacity must be at least 1 and at least minCapacity; received ${props.serving.maxCapacity}`,
    );
  }
  if (props.rollbackAlarms.length === 0) {
    throw new Error('rollbackAlarms must list at least one alarm: blue/green deployments roll back on them');
  }
  if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(props.endpointName)) {
    throw new Error(
      `endpointName must be a SageMaker name (letters, digits, hyphens, ≤ 63); received "${props.endpointName}"`,
    );
  }
}
