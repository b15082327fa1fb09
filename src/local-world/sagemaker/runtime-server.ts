/**
 * The SageMaker runtime REST API (`InvokeEndpoint`) on 127.0.0.1, in front of local model containers, so that
 * `@aws-sdk/client-sagemaker-runtime`'s real client (endpoint set to {@link LocalSageMakerRuntime.url}) works.
 *
 * What it answers (API model `com.amazonaws.sagemakerruntime`, restJson1):
 * - `POST /endpoints/{EndpointName}/invocations` → 200 with the container's body, `Content-Type` and
 *   `x-Amzn-Invoked-Production-Variant`;
 * - a container 4xx/5xx → 424 `ModelError` {Message, OriginalStatusCode, OriginalMessage, LogStreamArn};
 * - an unknown endpoint or variant, or a bad inference id → 400 `ValidationError`;
 * - a container that cannot be reached → 500 `InternalFailure`.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataCaptureWriter, type DataCaptureOptions } from './data-capture';
import { ModelContainer, type ContainerReply } from './model-container';

/** A production variant of a local endpoint. */
export interface LocalVariantConfig {
  /** `VariantName`. */
  readonly variantName: string;
  /** The variant's model.tar.gz. */
  readonly modelArtifact: string;
  /** `InitialVariantWeight`. @default 1 */
  readonly initialWeight?: number;
  /** The model's `SAGEMAKER_PROGRAM`. @default 'inference.py' */
  readonly program?: string;
  /** The model's environment. @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

/** A local endpoint: its name, variants and data capture. */
export interface LocalEndpointConfig {
  readonly name: string;
  readonly variants: readonly LocalVariantConfig[];
  /** Data capture, as the endpoint config's `DataCaptureConfig`. @default no capture */
  readonly capture?: DataCaptureOptions;
}

/** Options of {@link LocalSageMakerRuntime.start}. */
export interface LocalSageMakerRuntimeOptions {
  /** @default a free port */
  readonly port?: number;
  /** Region and account in messages and log stream ARNs. @default 'us-east-1', '000000000000' */
  readonly region?: string;
  readonly accountId?: string;
}

interface RunningVariant {
  readonly config: LocalVariantConfig;
  readonly container: ModelContainer;
  /** Smooth weighted round-robin state: deterministic traffic split by weight. */
  current: number;
}

interface RunningEndpoint {
  readonly name: string;
  readonly variants: RunningVariant[];
  readonly capture?: DataCaptureWriter;
}

/** An API error as the runtime service sends it. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const INVOKE_PATH = /^\/endpoints\/([^/]+)\/invocations$/;
const INFERENCE_ID = /^\S[\x20-\x7E]*$/;
const MAX_INFERENCE_ID = 64;

/** The runtime API server hosting any number of local endpoints. */
export class LocalSageMakerRuntime {
  private readonly endpoints = new Map<string, RunningEndpoint>();
  private readonly region: string;
  private readonly accountId: string;

  private constructor(
    private readonly server: http.Server,
    options: LocalSageMakerRuntimeOptions,
  ) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
  }

  /** Start the API server on 127.0.0.1. */
  static async start(options: LocalSageMakerRuntimeOptions = {}): Promise<LocalSageMakerRuntime> {
    const server = http.createServer();
    const runtime = new LocalSageMakerRuntime(server, options);
    server.on('request', (request, response) => void runtime.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return runtime;
  }

  /** The URL to give the SDK client as `endpoint`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Names of the endpoints in service. */
  endpointNames(): string[] {
    return [...this.endpoints.keys()].sort();
  }

  /** Start the variants' containers and put the endpoint in service (`CreateEndpoint`). */
  async createEndpoint(config: LocalEndpointConfig): Promise<void> {
    if (this.endpoints.has(config.name)) {
      throw new Error(`endpoint ${config.name} already exists; use updateEndpoint to change its models`);
    }
    this.endpoints.set(config.name, await this.launch(config));
  }

  /** Start the new variants, switch traffic to them, then stop the old containers (`UpdateEndpoint`). */
  async updateEndpoint(config: LocalEndpointConfig): Promise<void> {
    const previous = this.endpoints.get(config.name);
    if (!previous) throw new Error(`endpoint ${config.name} does not exist; use createEndpoint`);
    this.endpoints.set(config.name, await this.launch(config));
    await Promise.all(previous.variants.map((v) => v.container.stop()));
  }

  /** Stop the endpoint's containers (`DeleteEndpoint`). */
  async deleteEndpoint(name: string): Promise<void> {
    const endpoint = this.endpoints.get(name);
    this.endpoints.delete(name);
    await Promise.all(endpoint?.variants.map((v) => v.container.stop()) ?? []);
  }

  /** Stop every container and the API server. */
  async stop(): Promise<void> {
    await Promise.all(this.endpointNames().map((name) => this.deleteEndpoint(name)));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async launch(config: LocalEndpointConfig): Promise<RunningEndpoint> {
    if (config.variants.length === 0) throw new Error(`endpoint ${config.name} needs at least one variant`);
    const names = new Set(config.variants.map((v) => v.variantName));
    if (names.size !== config.variants.length) throw new Error(`endpoint ${config.name}: variant names must differ`);
    const capture = config.capture ? new DataCaptureWriter(config.capture) : undefined;
    const started = await Promise.allSettled(
      config.variants.map((v) =>
        ModelContainer.start({ modelArtifact: v.modelArtifact, program: v.program, env: v.env }),
      ),
    );
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
      throw failed.reason;
    }
    const containers = started.map((s) => (s as PromiseFulfilledResult<ModelContainer>).value);
    return {
      name: config.name,
      variants: config.variants.map((v, i) => ({ config: v, container: containers[i], current: 0 })),
      capture,
    };
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      const body = await readBody(request);
      const match = INVOKE_PATH.exec((request.url ?? '').split('?')[0]);
      if (request.method !== 'POST' || !match) {
        throw new ApiError(404, 'UnknownOperationException', `no operation at ${request.method} ${request.url}`);
      }
      await this.invoke(decodeURIComponent(match[1]), request, body, response, requestId);
    } catch (error) {
      const apiError =
        error instanceof ApiError ? error : new ApiError(500, 'InternalFailure', `local runtime: ${String(error)}`);
      sendJson(response, apiError.status, requestId, apiError.type, { ...apiError.extra, Message: apiError.message });
    }
  }

  private async invoke(
    name: string,
    request: http.IncomingMessage,
    body: Buffer,
    response: http.ServerResponse,
    requestId: string,
  ): Promise<void> {
    const endpoint = this.endpoints.get(name);
    if (!endpoint) {
      throw new ApiError(400, 'ValidationError', `Endpoint ${name} of account ${this.accountId} not found.`);
    }
    const inferenceId = header(request, 'x-amzn-sagemaker-inference-id');
    if (inferenceId !== undefined && (inferenceId.length > MAX_INFERENCE_ID || !INFERENCE_ID.test(inferenceId))) {
      throw new ApiError(400, 'ValidationError', `InferenceId must be 1-${MAX_INFERENCE_ID} printable characters`);
    }
    const variant = chooseVariant(endpoint, header(request, 'x-amzn-sagemaker-target-variant'));
    const contentType = header(request, 'content-type');
    let reply: ContainerReply;
    try {
      reply = await variant.container.invoke(body, contentType, header(request, 'accept'));
    } catch (error) {
      throw new ApiError(500, 'InternalFailure', `the model container of ${variant.config.variantName}: ${error}`);
    }
    if (reply.status >= 400) throw this.modelError(endpoint.name, variant.config.variantName, reply);
    await endpoint.capture?.capture({
      endpointName: endpoint.name,
      variantName: variant.config.variantName,
      inferenceId,
      requestContentType: contentType ?? 'application/octet-stream',
      requestBody: body,
      responseContentType: reply.contentType,
      responseBody: reply.body,
    });
    response.writeHead(200, {
      'Content-Type': reply.contentType,
      'Content-Length': reply.body.length,
      'x-Amzn-Invoked-Production-Variant': variant.config.variantName,
      'x-amzn-RequestId': requestId,
    });
    response.end(reply.body);
  }

  /** The 424 SageMaker answers when the container answers an error status. */
  private modelError(endpointName: string, variantName: string, reply: ContainerReply): ApiError {
    const originalMessage = reply.body.toString('utf8');
    const kind = reply.status < 500 ? 'client' : 'server';
    const logGroup = `/aws/sagemaker/Endpoints/${endpointName}`;
    return new ApiError(
      424,
      'ModelError',
      `Received ${kind} error (${reply.status}) from ${variantName} with message "${originalMessage}". ` +
        `See the log group ${logGroup} in account ${this.accountId} for more information.`,
      {
        OriginalStatusCode: reply.status,
        OriginalMessage: originalMessage,
        LogStreamArn: `arn:aws:logs:${this.region}:${this.accountId}:log-group:${logGroup}`,
      },
    );
  }
}

/** `TargetVariant` when given, else a smooth weighted round-robin over the variants' weights. */
function chooseVariant(endpoint: RunningEndpoint, target: string | undefined): RunningVariant {
  if (target !== undefined) {
    const variant = endpoint.variants.find((v) => v.config.variantName === target);
    if (!variant) {
      throw new ApiError(400, 'ValidationError', `Variant ${target} not found for endpoint ${endpoint.name}.`);
    }
    return variant;
  }
  const weight = (v: RunningVariant) => v.config.initialWeight ?? 1;
  const total = endpoint.variants.reduce((sum, v) => sum + weight(v), 0);
  let best = endpoint.variants[0];
  for (const variant of endpoint.variants) {
    variant.current += weight(variant);
    if (variant.current > best.current) best = variant;
  }
  best.current -= total;
  return best;
}

function header(request: http.IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function sendJson(
  response: http.ServerResponse,
  status: number,
  requestId: string,
  type: string,
  document: Record<string, unknown>,
): void {
  const body = JSON.stringify(document);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-ErrorType': type,
    'x-amzn-RequestId': requestId,
  });
  response.end(body);
}

/** Input of {@link startLocalEndpoint}. */
export interface StartLocalEndpointInput {
  /** `EndpointName`. */
  readonly name: string;
  readonly modelArtifact: string;
  /** @default 'AllTraffic' */
  readonly variantName?: string;
  readonly capture?: DataCaptureOptions;
  /** The model's `SAGEMAKER_PROGRAM`. @default 'inference.py' */
  readonly program?: string;
  /** The model's environment. @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

/** A one-endpoint runtime: give `endpoint` to `SageMakerRuntimeClient`, call `stop()` when done. */
export interface LocalEndpoint {
  /** The runtime API URL (`http://127.0.0.1:<port>`). */
  readonly endpoint: string;
  readonly runtime: LocalSageMakerRuntime;
  stop(): Promise<void>;
}

/** Serve one model behind the runtime API, as `CreateEndpoint` with one variant would. */
export async function startLocalEndpoint(input: StartLocalEndpointInput): Promise<LocalEndpoint> {
  const runtime = await LocalSageMakerRuntime.start();
  try {
    await runtime.createEndpoint({
      name: input.name,
      capture: input.capture,
      variants: [
        {
          variantName: input.variantName ?? 'AllTraffic',
          modelArtifact: input.modelArtifact,
          program: input.program,
          env: input.env,
        },
      ],
    });
  } catch (error) {
    await runtime.stop();
    throw error;
  }
  return { endpoint: runtime.url, runtime, stop: () => runtime.stop() };
}
