/**
 * One serving container: the model archive extracted to a scratch folder and the Python shim answering
 * `GET /ping` and `POST /invocations` on 127.0.0.1 (a free port), with the model loaded once.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractModelArchive } from './archive';
import { CONTAINER_SCRIPT, containerEnv, lastLines, pythonExecutable, pythonStartError } from './python';

/** The marker line container.py prints once the model is loaded and the port is bound. */
const READY_MARKER = '__local_sagemaker_ready__';
const STARTUP_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 5_000;

/** Options of {@link ModelContainer.start}. */
export interface ModelContainerOptions {
  /** The model.tar.gz (with `code/<program>`). */
  readonly modelArtifact: string;
  /** The model's `SAGEMAKER_PROGRAM`, inside `code/`. @default 'inference.py' */
  readonly program?: string;
  /** The model's environment (e.g. `SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`). @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

/** What the container answered. */
export interface ContainerReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** A running serving container. */
export class ModelContainer {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private stderr = '';
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly scratch: string,
    /** The port the shim listens on (127.0.0.1). */
    readonly port: number,
  ) {
    this.exit = new Promise((resolve) => child.once('close', () => ((this.exited = true), resolve())));
    child.stderr.on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-20_000)));
  }

  /** Extract the model, start the shim and wait until model_fn has run and the port is bound. */
  static async start(options: ModelContainerOptions): Promise<ModelContainer> {
    const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'local-endpoint-'));
    try {
      const modelDir = path.join(scratch, 'model');
      await extractModelArchive(options.modelArtifact, modelDir);
      const python = pythonExecutable();
      const args = [CONTAINER_SCRIPT, 'serve', '--model-dir', modelDir, '--program', options.program ?? 'inference.py'];
      // stdin stays open: the shim exits when it closes, so no server outlives this process.
      const child = spawn(python, args, { env: containerEnv({ ...options.env }), stdio: 'pipe' });
      const port = await waitUntilReady(child, python);
      const container = new ModelContainer(child, scratch, port);
      await container.ping();
      return container;
    } catch (error) {
      await fs.rm(scratch, { recursive: true, force: true });
      throw error;
    }
  }

  /** `GET /ping`; rejects unless 200. */
  async ping(): Promise<void> {
    const reply = await this.request('GET', '/ping');
    if (reply.status !== 200) throw new Error(`the model container answered /ping with ${reply.status}`);
  }

  /** `POST /invocations` with the request's body and headers. */
  invoke(body: Buffer, contentType: string | undefined, accept: string | undefined): Promise<ContainerReply> {
    const headers: Record<string, string> = {};
    if (contentType) headers['Content-Type'] = contentType;
    if (accept) headers.Accept = accept;
    return this.request('POST', '/invocations', body, headers);
  }

  /** The end of the container's stderr (handler tracebacks), for error messages. */
  stderrTail(lines = 10): string {
    return lastLines(this.stderr, lines);
  }

  /** Stop the shim (close its stdin, then SIGKILL after a grace period) and delete the extracted model. */
  async stop(): Promise<void> {
    this.agent.destroy();
    if (!this.exited) {
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exit;
      clearTimeout(timer);
    }
    await fs.rm(this.scratch, { recursive: true, force: true });
  }

  private request(method: string, route: string, body?: Buffer, headers: Record<string, string> = {}) {
    return new Promise<ContainerReply>((resolve, reject) => {
      if (this.exited) {
        reject(new Error(`the model container has exited: ${this.stderrTail()}`));
        return;
      }
      const request = http.request(
        { host: '127.0.0.1', port: this.port, method, path: route, headers, agent: this.agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 500,
              contentType: String(response.headers['content-type'] ?? ''),
              body: Buffer.concat(chunks),
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}

function waitUntilReady(child: ChildProcessWithoutNullStreams, python: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    const onStderr = (chunk: string) => (stderr = (stderr + chunk).slice(-20_000));
    const finish = (error?: Error, port?: number) => {
      clearTimeout(timer);
      child.stdout.removeListener('data', onStdout);
      child.stderr.removeListener('data', onStderr);
      child.removeListener('close', onClose);
      child.removeListener('error', onError);
      child.stdout.resume();
      if (error) {
        child.kill('SIGKILL');
        reject(error);
      } else resolve(port as number);
    };
    const onStdout = (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith(READY_MARKER));
      if (line) finish(undefined, (JSON.parse(line.slice(READY_MARKER.length)) as { port: number }).port);
    };
    const onClose = (code: number | null) =>
      finish(new Error(`the model container exited (code ${code}) before serving: ${lastLines(stderr, 10)}`));
    const onError = (error: Error) => finish(pythonStartError(python, error));
    const timer = setTimeout(
      () => finish(new Error(`the model container did not start within ${STARTUP_TIMEOUT_MS / 1000} s`)),
      STARTUP_TIMEOUT_MS,
    );
    child.stdout.on('data', onStdout);
    child.stderr.on('data', onStderr);
    child.once('close', onClose);
    child.once('error', onError);
  });
}
