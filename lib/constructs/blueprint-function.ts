import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';

/** Root of the repository (for Lambda entry points). */
export const PROJECT_ROOT = path.join(__dirname, '..', '..');

/** Properties of a {@link BlueprintFunction}. */
export interface BlueprintFunctionProps {
  /** Handler folder under `lambdas/` (its `index.ts` exports `handler`). */
  readonly handlerDir: string;
  /** What the function does (the Lambda description). */
  readonly description: string;
  /** Key of the function's log group and environment. */
  readonly encryptionKey: kms.IKey;
  /** Environment variables. @default none */
  readonly environment?: Record<string, string>;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Concurrency cap. @default no reservation */
  readonly reservedConcurrentExecutions?: number;
  /** @default RemovalPolicy.DESTROY (logs only) */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A TypeScript Lambda with the blueprint's defaults: bundled by esbuild (never Docker), Node.js 24 on arm64,
 * JSON logs to a KMS-encrypted log group with a retention, X-Ray tracing, its own role (no managed policies;
 * log permissions scoped to its log group), environment encrypted with the given key.
 */
export class BlueprintFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: BlueprintFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.handlerDir}`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: path.join(PROJECT_ROOT, 'lambdas', props.handlerDir, 'index.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      timeout: props.timeout ?? Duration.minutes(1),
      memorySize: props.memorySize ?? 512,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: lambda.Tracing.ACTIVE,
      environmentEncryption: props.encryptionKey,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.handlerDir,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: { minify: true, sourceMap: true, target: 'node24', format: nodejs.OutputFormat.CJS },
    });
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledgeNag(
        policy,
        'IAM5[Resource::*]',
        'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions (added by tracing: ACTIVE).',
      );
    }
  }
}
