/**
 * The real SDK's `SageMakerRuntimeClient` pointed at a local runtime API (`LocalSageMakerRuntime.url`, or one
 * endpoint's `LocalEndpoint.endpoint`): local credentials, one attempt (a local failure is a bug to see, not a
 * throttle to retry), Node's HTTP handler.
 */
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** A runtime client for the local API at `url`. */
export function localRuntimeClient(url: string): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  });
}
