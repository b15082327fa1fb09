/**
 * The scorer on a SageMaker endpoint (the ranker's inference handler: `text/csv` rows in, JSON
 * `{scores, model_version, feature_version}` out), bounded by a timeout that aborts the request, with the request's
 * inference id. The model version is the one the model reports; for a model that answers bare CSV scores, the
 * endpoint's config name (one per retraining run), cached so it costs no latency.
 */
import { DescribeEndpointCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { parseModelResponse, withTimeout, type Scorer } from '../../../core/recommender/recommend';

/** How long the model version is cached. */
export const MODEL_VERSION_TTL_MS = 5 * 60_000;

/** The endpoint's model version, cached; `unknown` (retried after 30 s) when it cannot be described. */
export class ModelVersionCache {
  private cached?: { value: string; at: number };

  constructor(
    private readonly client: SageMakerClient,
    private readonly endpointName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    const now = this.now();
    if (this.cached && now - this.cached.at < MODEL_VERSION_TTL_MS) return this.cached.value;
    try {
      const out = await this.client.send(new DescribeEndpointCommand({ EndpointName: this.endpointName }));
      this.cached = { value: out.EndpointConfigName ?? 'unknown', at: now };
    } catch {
      this.cached = { value: 'unknown', at: now - MODEL_VERSION_TTL_MS + 30_000 };
    }
    return this.cached.value;
  }
}

/** A {@link Scorer} on the endpoint. The runtime client should make one attempt (the fallback is the retry). */
export function sageMakerScorer(
  runtime: SageMakerRuntimeClient,
  endpointName: string,
  versions: Pick<ModelVersionCache, 'get'>,
): Scorer {
  return async (csv, rows, timeoutMs, inferenceId) => {
    const controller = new AbortController();
    // Started with the request (cached: usually free); used only when the model does not name its version.
    const endpointVersion = versions.get();
    const out = await withTimeout(
      runtime.send(
        new InvokeEndpointCommand({
          EndpointName: endpointName,
          ContentType: 'text/csv',
          Accept: 'application/json',
          Body: csv,
          ...(inferenceId ? { InferenceId: inferenceId } : {}),
        }),
        { abortSignal: controller.signal },
      ),
      timeoutMs,
      () => controller.abort(),
    );
    const body = out.Body instanceof Uint8Array ? new TextDecoder().decode(out.Body) : String(out.Body ?? '');
    const parsed = parseModelResponse(body, rows);
    return { scores: parsed.scores, modelVersion: parsed.modelVersion ?? (await endpointVersion) };
  };
}
