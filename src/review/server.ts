/**
 * `npm run review`'s server: the reviewers' page and the review API's own handler on 127.0.0.1, over the local
 * world — dynalite for the queue (the same DynamoDB store as in AWS), kinesalite for the label stream, the local
 * raw bucket's files for images (presigned URLs, expiry enforced) and for the lake (label events delivered under
 * `events/`), and accepted audit items' outcome records into a local artifacts bucket's folder (`<dir>/s3/<artifacts
 * bucket>/drift/outcomes/<endpoint>/…`, where the drift checker reads them in AWS). API requests become
 * API-Gateway-shaped events (HTTP API 2.0) carrying a stubbed identity: the page
 * sends `Authorization: Bearer local:<name>`, which stands in for Cognito's JWT; without it the API answers 401
 * like API Gateway's JWT authorizer and the handler is never called.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { DEFAULT_REVIEW_POLICY, type ReviewPolicy } from '../../core/review/policy';
import { auditOutcomeKey, type AuditOutcome, type OutcomeDestination } from '../../core/review/outcome';
import { matchRoute } from '../../core/review/routes';
import { ReviewService, type ReviewMetric } from '../../core/review/service';
import { imagePresigner, kinesisPublisher } from '../../lambdas/review-api/adapters';
import { createApiHandler } from '../../lambdas/review-api/api';
import { DynamoReviewStore, REVIEW_TABLE_DEFINITION } from '../../lambdas/shared/aws/review-store';
import { buildReviewPage, REVIEW_PAGE_FILES } from '../../lib/constructs/review-app/page';
import { Emulators } from '../simulate/emulators';
import { LocalLake } from './lake';
import { seedQueue, SeedError, type SeedReport } from './seed';

/** The vision preset's images prefix (`vision.ingestion.imagesPrefix`). */
export const LOCAL_IMAGES_PREFIX = 'images/';
/** The raw bucket's folder name when the folder has none yet. */
export const DEMO_BUCKET = 'local-raw';
/** The local artifacts bucket's folder name (audit outcomes). */
export const LOCAL_ARTIFACTS_BUCKET = 'local-artifacts';
/** The sandbox vision endpoint (`endpointNameOf('sandbox', 'vision')`): the outcomes' folder, as the checker reads it. */
export const LOCAL_ENDPOINT = 'mlbp-sandbox-vision';
const STREAM = 'review-labels';
const TABLE = 'review-queue';

/** What the page says about the stub. */
export const STUB_NOTICE =
  'Local mode: sign-in is stubbed. You are the reviewer named by ?reviewer= in the address (no password is checked). In AWS, reviewers sign in with Cognito (admin-created users; MFA required in production).';

/** Options of {@link startReviewServer}. */
export interface ReviewServerOptions {
  /** The folder kept by `npm run simulate -- --out DIR` (or any folder; the demo set is written when empty). */
  readonly dir: string;
  /** The raw bucket's folder under `<dir>/s3/`. @default the one bucket folder with `images/`, else `local-raw` */
  readonly bucket?: string;
  /** @default 8014; 0 picks a free port */
  readonly port?: number;
  /** The clock of leases, URLs and the lake. @default the system clock */
  readonly now?: () => Date;
  readonly policy?: ReviewPolicy;
  /** @default 300 */
  readonly imageUrlSeconds?: number;
}

/** A running server. */
export interface ReviewServer {
  readonly url: string;
  readonly bucket: string;
  readonly seed: SeedReport;
  readonly lake: LocalLake;
  /** Where audit outcomes go: `<dir>/s3/<bucket>/<prefix><endpoint>/yyyy/mm/dd/hh/audit-<item>.jsonl`. */
  readonly outcomes: OutcomeDestination & { readonly dir: string };
  readonly service: ReviewService;
  /** Metrics the queue emitted (in AWS: EMF to CloudWatch). */
  readonly metrics: ReadonlyMap<ReviewMetric, number[]>;
  close(): Promise<void>;
}

/** Finds the raw bucket's folder under `<dir>/s3/`. */
export function findBucket(dir: string, requested?: string): string {
  if (requested !== undefined) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(requested)) {
      throw new SeedError(`--bucket must be an S3 bucket name; received "${requested}"`);
    }
    return requested;
  }
  const root = path.join(dir, 's3');
  const candidates = fs.existsSync(root)
    ? fs.readdirSync(root).filter((b) => fs.existsSync(path.join(root, b, LOCAL_IMAGES_PREFIX)))
    : [];
  if (candidates.length > 1) {
    throw new SeedError(
      `${root} holds several buckets with ${LOCAL_IMAGES_PREFIX} (${candidates.join(', ')}): choose one with --bucket`,
    );
  }
  return candidates[0] ?? DEMO_BUCKET;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

function send(res: http.ServerResponse, status: number, body: string | Buffer, headers: Record<string, string>) {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

const sendJson = (res: http.ServerResponse, status: number, value: unknown) =>
  send(res, status, JSON.stringify(value), {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('request body above 64 KiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The stub authorizer: `Bearer local:<name>` → the claims a Cognito access token would carry. */
export function localClaims(authorization: string | undefined): Record<string, string> | undefined {
  const m = /^Bearer local:([A-Za-z0-9_-]{1,32})$/.exec(authorization ?? '');
  return m ? { sub: `local-${m[1]}`, username: m[1], token_use: 'access' } : undefined;
}

/** Starts the server; {@link ReviewServer.close} stops it and the emulators. */
export async function startReviewServer(options: ReviewServerOptions): Promise<ReviewServer> {
  const dir = path.resolve(options.dir);
  const bucket = findBucket(dir, options.bucket);
  const now = options.now ?? (() => new Date());
  fs.mkdirSync(dir, { recursive: true });

  const pageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlbp-review-page-'));
  buildReviewPage(pageDir);
  const page = new Map(REVIEW_PAGE_FILES.map((f) => [`/${f}`, fs.readFileSync(path.join(pageDir, f))]));
  fs.rmSync(pageDir, { recursive: true, force: true });

  const emulators = await Emulators.start();
  const server = http.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8014, '127.0.0.1', () => resolve());
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await emulators.dynamo.send(new CreateTableCommand({ TableName: TABLE, ...REVIEW_TABLE_DEFINITION }));
    await emulators.createStream(STREAM, 1);
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: `${url}/s3`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const metrics = new Map<ReviewMetric, number[]>();
    const outcomes = {
      bucket: LOCAL_ARTIFACTS_BUCKET,
      prefix: 'drift/outcomes/',
      endpointName: LOCAL_ENDPOINT,
      dir: path.join(dir, 's3', LOCAL_ARTIFACTS_BUCKET),
    };
    // S3's part, on the folder: one object per audit item at its deterministic key (a rewrite is the same file).
    const writeOutcome = async (outcome: AuditOutcome) => {
      const file = path.join(outcomes.dir, auditOutcomeKey(outcomes.prefix, outcomes.endpointName, outcome));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `${JSON.stringify(outcome.record)}\n`);
    };
    const service = new ReviewService(
      {
        store: new DynamoReviewStore(emulators.dynamo, TABLE),
        publish: kinesisPublisher(emulators.kinesis, { StreamName: STREAM }),
        writeOutcome,
        presign: imagePresigner(s3, bucket, LOCAL_IMAGES_PREFIX, options.imageUrlSeconds ?? 300),
        now,
        newToken: randomUUID,
        metric: (name, value) => metrics.set(name, [...(metrics.get(name) ?? []), value]),
      },
      { imagesPrefix: LOCAL_IMAGES_PREFIX, policy: options.policy ?? DEFAULT_REVIEW_POLICY },
    );
    const api = createApiHandler(service, () => undefined);
    const lake = new LocalLake(path.join(dir, 's3', bucket));
    const seed = await seedQueue(service, { dir, bucket, imagesPrefix: LOCAL_IMAGES_PREFIX, lake });
    let requests = 0;

    const handleApi = async (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => {
      const route = matchRoute(req.method ?? '', pathname.slice('/api'.length));
      if (!route) return sendJson(res, 404, { message: 'Not Found' });
      const claims = localClaims(req.headers.authorization);
      // What API Gateway's JWT authorizer answers when the token is missing or invalid: the handler never runs.
      if (!claims) return sendJson(res, 401, { message: 'Unauthorized' });
      const body = await readBody(req);
      const event = apiEvent(req, route.key, pathname, body, claims, route.itemId, ++requests, now());
      const out = await api(event);
      // Firehose's part: deliver what the handler put on the stream into the lake.
      await lake.deliver(emulators, STREAM, now());
      send(res, out.statusCode ?? 200, out.body ?? '', (out.headers ?? {}) as Record<string, string>);
    };

    const handleImage = (res: http.ServerResponse, pathname: string, query: URLSearchParams) => {
      const [, , bucketName, ...rest] = pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      const date = query.get('X-Amz-Date');
      const expires = Number(query.get('X-Amz-Expires'));
      if (!date || !query.get('X-Amz-Signature') || !Number.isFinite(expires)) {
        return send(res, 403, 'AccessDenied: a presigned URL is required', { 'content-type': 'text/plain' });
      }
      const signedAt = Date.parse(date.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
      if (!(signedAt + expires * 1000 > now().getTime())) {
        return send(res, 403, 'AccessDenied: Request has expired', { 'content-type': 'text/plain' });
      }
      const root = path.join(dir, 's3', bucket);
      const file = path.resolve(root, key);
      if (bucketName !== bucket || !key.startsWith(LOCAL_IMAGES_PREFIX) || !file.startsWith(root + path.sep)) {
        return send(res, 403, 'AccessDenied: only images of the raw bucket can be read', {
          'content-type': 'text/plain',
        });
      }
      if (!fs.existsSync(file)) return send(res, 404, 'NoSuchKey', { 'content-type': 'text/plain' });
      send(res, 200, fs.readFileSync(file), {
        'content-type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      });
    };

    server.on('request', (req, res) => {
      const { pathname, searchParams } = new URL(req.url ?? '/', url);
      const done = (error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: `local server error: ${(error as Error).message}` });
      };
      try {
        if (pathname.startsWith('/api/')) return void handleApi(req, res, pathname).catch(done);
        if (req.method !== 'GET') return sendJson(res, 405, { message: 'Method Not Allowed' });
        if (pathname.startsWith('/s3/')) return handleImage(res, pathname, searchParams);
        if (pathname === '/config.json') {
          return sendJson(res, 200, { mode: 'local', apiUrl: '/api', notice: STUB_NOTICE });
        }
        const file = page.get(pathname === '/' ? '/index.html' : pathname);
        if (!file) return send(res, 404, 'Not Found', { 'content-type': 'text/plain' });
        send(res, 200, file, { 'content-type': CONTENT_TYPES[path.extname(pathname) || '.html'], ...PAGE_HEADERS });
      } catch (error) {
        done(error);
      }
    });

    return {
      url,
      bucket,
      seed,
      lake,
      outcomes,
      service,
      metrics,
      close: async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await emulators.close();
      },
    };
  } catch (error) {
    server.close();
    await emulators.close();
    throw error;
  }
}

/** An HTTP API (payload 2.0) event, as API Gateway hands it to the Lambda after the JWT authorizer. */
function apiEvent(
  req: http.IncomingMessage,
  routeKey: string,
  pathname: string,
  body: string,
  claims: Record<string, string>,
  itemId: string | undefined,
  n: number,
  at: Date,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const method = req.method ?? 'GET';
  const rawPath = pathname.slice('/api'.length);
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
    body: body || undefined,
    isBase64Encoded: false,
    pathParameters: itemId === undefined ? undefined : { itemId },
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: String(req.headers['user-agent'] ?? ''),
      },
      requestId: `local-${n}`,
      routeKey,
      stage: '$default',
      time: at.toISOString(),
      timeEpoch: at.getTime(),
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } },
    },
  };
}
