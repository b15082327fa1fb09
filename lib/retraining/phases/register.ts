/**
 * Register and approve: every candidate is registered in the model package group, a better one as approved (or
 * pending a person's approval), a worse one as rejected. With manual approval the run waits for a task token
 * answered by `npm run approve`; a rejection marks the package rejected and ends the run.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { MODEL_REJECTED_ERROR_NAME } from '../../../core/retraining/approval';
import { MODEL_PACKAGE_TAG } from '../../../core/retraining/champion';
import type { RetrainingLoopProps } from '../props';
import { retryTransient, type LoopStates } from '../states';

/** Properties of a {@link RegisterPhase}. */
export interface RegisterPhaseProps {
  /** `ModelMetrics` of the registered packages (the case study's evaluation report). @default none */
  readonly modelMetrics?: Record<string, unknown>;
  readonly states: LoopStates;
  /** The loop's properties (approval mode and timeout, topic, recipe, serving instance type). */
  readonly props: RetrainingLoopProps;
}

/**
 * `CandidateBetter?` → `RegisterCandidate` (→ `RequestApproval` → `MarkApproved`), or `RegisterRejectedCandidate`
 * → `RecordCandidateRejected`.
 */
export class RegisterPhase extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, p: RegisterPhaseProps) {
    super(scope, id);
    const { states, props } = p;
    const packageArn = states.arn(this, 'sagemaker', `model-package/${props.endpointName}/*`);
    const register = (stateId: string, status: 'Approved' | 'PendingManualApproval' | 'Rejected') =>
      states.sageMaker(
        this,
        stateId,
        'createModelPackage',
        {
          ModelPackageGroupName: props.endpointName,
          'ModelPackageDescription.$': "States.Format('dataset {}: {}', $.run.datasetId, $.evaluation.reason)",
          ModelApprovalStatus: status,
          InferenceSpecification: {
            Containers: [
              {
                Image: props.recipe.inferenceImage ?? props.recipe.image,
                'ModelDataUrl.$': '$.training.modelArtifacts',
                ...(props.recipe.modelEnvironment ? { Environment: props.recipe.modelEnvironment } : {}),
              },
            ],
            SupportedContentTypes: props.recipe.contentTypes,
            SupportedResponseMIMETypes: props.recipe.responseTypes,
            SupportedRealtimeInferenceInstanceTypes: [props.serving.instanceType],
          },
          'CustomerMetadataProperties.$': '$.evaluation.metadata',
          ...(p.modelMetrics ? { ModelMetrics: p.modelMetrics } : {}),
          Tags: states.tags,
        },
        [states.arn(this, 'sagemaker', `model-package-group/${props.endpointName}`), packageArn],
        { resultSelector: { 'arn.$': '$.ModelPackageArn' }, resultPath: '$.registered' },
      );
    const registerRejected = register('RegisterRejectedCandidate', 'Rejected');
    registerRejected.next(
      states.outcome(this, 'RecordCandidateRejected', {
        status: 'rejected',
        'reason.$': '$.evaluation.reason',
        'evaluation.$': '$.evaluation',
        'modelPackageArn.$': '$.registered.arn',
        'datasetId.$': '$.run.datasetId',
      }),
    );
    const registerCandidate = register(
      'RegisterCandidate',
      props.approval === 'auto' ? 'Approved' : 'PendingManualApproval',
    );
    // The champion is found through the served model's tag (`core/retraining/champion.ts`).
    const tagModel = states.sageMaker(
      this,
      'TagCandidateModel',
      'addTags',
      { 'ResourceArn.$': '$.candidateModel.arn', Tags: [{ Key: MODEL_PACKAGE_TAG, 'Value.$': '$.registered.arn' }] },
      [states.arn(this, 'sagemaker', `model/${props.endpointName}-*`)],
    );
    registerCandidate.next(tagModel);
    this.endStates = [props.approval === 'manual' ? this.approvalStates(p, tagModel) : tagModel];
    this.startState = new sfn.Choice(this, 'CandidateBetter?')
      .when(sfn.Condition.booleanEquals('$.evaluation.promote', true), registerCandidate)
      .otherwise(registerRejected);
  }

  /** `RequestApproval` (task token through SNS) → `MarkApproved`, or `MarkRejectedByApprover`. */
  private approvalStates(p: RegisterPhaseProps, registered: sfn.INextable): sfn.INextable {
    const { states, props } = p;
    const approve = `npm run approve -- --case ${props.caseStudy} --stage ${props.stage}`;
    const request = retryTransient(
      new tasks.SnsPublish(this, 'RequestApproval', {
        topic: props.topic,
        subject: `ml-blueprint ${props.stage} ${props.caseStudy}: model awaiting approval`,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        message: sfn.TaskInput.fromObject({
          kind: 'approval-request',
          ...states.common,
          taskToken: sfn.JsonPath.taskToken,
          modelPackageArn: sfn.JsonPath.stringAt('$.registered.arn'),
          evaluation: sfn.JsonPath.objectAt('$.evaluation'),
          approve: `${approve} --decision approve --token <taskToken>`,
          reject: `${approve} --decision reject --token <taskToken> --comment "<why>"`,
        }),
        messageAttributes: { kind: { value: 'approval-request' } },
        taskTimeout: sfn.Timeout.duration(props.approvalTimeout),
        resultPath: '$.approval',
      }),
    );
    const rejectedByApprover = states.setApproval(
      this,
      'MarkRejectedByApprover',
      'Rejected',
      "States.Format('rejected: {}', $.approvalError.Cause)",
    );
    rejectedByApprover.next(
      states.outcome(this, 'RecordApprovalRejected', {
        status: 'rejected',
        'reason.$': "States.Format('rejected by the approver: {}', $.approvalError.Cause)",
        'modelPackageArn.$': '$.registered.arn',
        'datasetId.$': '$.run.datasetId',
      }),
    );
    request.addCatch(rejectedByApprover, { errors: [MODEL_REJECTED_ERROR_NAME], resultPath: '$.approvalError' });
    // Nobody answered within the approval timeout: the package is rejected with that reason, never left pending.
    const timedOut = states.markPackage(
      this,
      'MarkApprovalTimedOut',
      'approval-timed-out',
      `no answer within ${props.approvalTimeout.toHumanString()}`,
    );
    timedOut.next(
      states.outcome(this, 'RecordApprovalTimedOut', {
        status: 'approval-timed-out',
        reason: `no approval within ${props.approvalTimeout.toHumanString()}: the package is rejected`,
        'modelPackageArn.$': '$.registered.arn',
        'datasetId.$': '$.run.datasetId',
      }),
    );
    request.addCatch(timedOut, { errors: ['States.Timeout'], resultPath: '$.approvalError' });
    request.addCatch(states.recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    const approved = states.setApproval(
      this,
      'MarkApproved',
      'Approved',
      "States.Format('approved by {}', $.approval.approver)",
    );
    registered.next(request).next(approved);
    return approved;
  }
}
