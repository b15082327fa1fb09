/**
 * Custom resource of the sandbox ML stack: when the stack is deleted, deletes what the retraining loop created at
 * run time for its stage and case study ({@link handleTeardownEvent}, {@link teardownStep}). The same function is
 * the provider's onEvent and isComplete handler.
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import {
  handleTeardownEvent,
  type TeardownResourceEvent,
  type TeardownResourceResponse,
} from '../../core/retraining/teardown';
import { sdkTeardownPort } from './sdk-port';

const logger = new Logger();
const tracer = new Tracer();
const port = sdkTeardownPort({
  sagemaker: tracer.captureAWSv3Client(new SageMakerClient({})),
  autoscaling: tracer.captureAWSv3Client(new ApplicationAutoScalingClient({})),
  cloudwatch: tracer.captureAWSv3Client(new CloudWatchClient({})),
});

/** The Lambda entry point (onEvent and isComplete of the provider framework). */
export async function handler(event: TeardownResourceEvent): Promise<TeardownResourceResponse> {
  logger.info('teardown event', {
    requestType: event.RequestType,
    phase: event.TeardownPhase ?? 'on-event',
    properties: event.ResourceProperties,
  });
  return handleTeardownEvent(event, port, (message, details) => logger.info(message, details));
}
