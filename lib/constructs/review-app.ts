import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REVIEW_METRICS_NAMESPACE } from '../../core/review/metrics';
import { DEFAULT_REVIEW_POLICY, validatePolicy, type ReviewPolicy } from '../../core/review/policy';
import { REVIEW_ROUTES } from '../../core/review/routes';
import { REVIEW_TABLE_LAYOUT as L } from '../../core/review/store';
import { REVIEW_ENV } from '../../lambdas/review-api/settings';
import { acknowledgeBucketGrants, acknowledgeNag, nagArnName } from '../nag';
import { BlueprintFunction } from './blueprint-function';
import { PageHosting } from './review-app/page-hosting';
import { ReviewerSignIn } from './review-app/sign-in';

/** Properties of a {@link ReviewApp}. */
export interface ReviewAppProps {
  /** The raw bucket: reviewers see its images through presigned URLs, under `imagesPrefix` only. */
  readonly imagesBucket: s3.IBucket;
  /** @default 'images/' (the ingestion's images prefix) */
  readonly imagesPrefix?: string;
  /** The image stream: every accepted label goes on it as an image event (then Firehose lands it in the lake). */
  readonly stream: kinesis.IStream;
  /** Customer-managed key of the queue table, the functions' logs and environments, the API's access logs. */
  readonly encryptionKey: kms.IKey;
  /** Review requests from the active-learning loop (one JSON request per message). @default no intake */
  readonly requests?: sqs.IQueue;
  /** Requests per intake invocation. @default 10 */
  readonly intakeBatchSize?: number;
  /** Whether reviewers must use TOTP MFA: true in production, false lets a sandbox start at once. @default true */
  readonly mfaRequired?: boolean;
  /** How long a reviewer holds an item before it returns to the queue. @default Duration.minutes(5) */
  readonly leaseDuration?: Duration;
  /** Lifetime of an image's presigned URL. @default Duration.minutes(5) */
  readonly imageUrlExpiry?: Duration;
  /** Agreeing votes that accept an audit item and a label-conflict item. @default 2 each */
  readonly auditAgreement?: number;
  readonly conflictAgreement?: number;
  /** Votes after which an item without agreement is disputed. @default 3 */
  readonly maxVotes?: number;
  /** Items waiting for an hour above which the backlog alarm fires. @default 500 */
  readonly backlogThreshold?: number;
  /** How often the keeper measures the queue and republishes pending label events. @default Duration.minutes(5) */
  readonly keeperInterval?: Duration;
  /** Of the table and the user pool. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** The hosted UI's domain prefix. @default derived from the account and this construct (see `ReviewerSignIn`) */
  readonly domainPrefix?: string;
  /** A WAF web ACL (CLOUDFRONT scope) for the page. @default none */
  readonly webAclId?: string;
  /** Where the page bucket's access logs go. @default none */
  readonly accessLogsBucket?: s3.IBucket;
  /** Where alarms notify. @default no actions */
  readonly alarmTopic?: sns.ITopic;
}

/** The service dimension Powertools adds to the API function's metrics (its `POWERTOOLS_SERVICE_NAME`). */
const API_SERVICE = 'review-api';
const RUNBOOK = 'docs/runbooks/review-queue-backlog.md';

/**
 * Human-in-the-loop labelling that a new AWS account can use (SageMaker Ground Truth and A2I are closed to new
 * customers): the reviewers' page served privately (S3 + CloudFront origin access control), Cognito sign-in
 * (admin-created users, MFA), an HTTP API whose every route has the JWT authorizer, the queue in DynamoDB (the given
 * key), an intake from the review queue, a keeper on a schedule, metrics (queue depth, labels per hour, audit
 * agreement) and alarms. The case study's walkthrough (docs/case-studies/) has a section "The reviewers' page".
 */
export class ReviewApp extends Construct {
  /** The queue (items, leases, votes, classes). */
  public readonly table: dynamodb.Table;
  /** The API handler, also the keeper. */
  public readonly apiFunction: BlueprintFunction;
  /** Turns review requests into queue items. @default undefined without `requests` */
  public readonly intakeFunction?: BlueprintFunction;
  public readonly api: apigwv2.HttpApi;
  public readonly routes: apigwv2.HttpRoute[];
  public readonly signIn: ReviewerSignIn;
  public readonly page: PageHosting;
  /** `https://<distribution>/`. */
  public readonly pageUrl: string;
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ReviewAppProps) {
    super(scope, id);
    const policy = this.validate(props);
    const imagesPrefix = props.imagesPrefix ?? 'images/';
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: L.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: L.queueIndex,
      partitionKey: { name: L.queueKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: L.rankKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.page = new PageHosting(this, 'Page', {
      removalPolicy,
      encryptionKey: props.encryptionKey,
      accessLogsBucket: props.accessLogsBucket,
      webAclId: props.webAclId,
    });
    this.pageUrl = `https://${this.page.distribution.distributionDomainName}/`;
    this.signIn = new ReviewerSignIn(this, 'SignIn', {
      pageUrl: this.pageUrl,
      mfaRequired: props.mfaRequired ?? true,
      domainPrefix: props.domainPrefix,
      removalPolicy,
    });

    const env = {
      [REVIEW_ENV.tableName]: this.table.tableName,
      [REVIEW_ENV.imagesPrefix]: imagesPrefix,
      [REVIEW_ENV.leaseSeconds]: String(policy.leaseSeconds),
      [REVIEW_ENV.auditAgreement]: String(policy.agreement.audit),
      [REVIEW_ENV.conflictAgreement]: String(policy.agreement.conflict),
      [REVIEW_ENV.maxVotes]: String(policy.maxVotes),
      POWERTOOLS_METRICS_NAMESPACE: REVIEW_METRICS_NAMESPACE,
    };
    this.apiFunction = new BlueprintFunction(this, 'ApiFunction', {
      handlerDir: 'review-api',
      description: 'Reviewers API: next item, label, skip, classes, status; and the review queue keeper',
      encryptionKey: props.encryptionKey,
      timeout: Duration.seconds(15),
      environment: {
        ...env,
        [REVIEW_ENV.imagesBucket]: props.imagesBucket.bucketName,
        [REVIEW_ENV.streamArn]: props.stream.streamArn,
        [REVIEW_ENV.imageUrlSeconds]: String((props.imageUrlExpiry ?? Duration.minutes(5)).toSeconds()),
      },
    });
    this.table.grantReadWriteData(this.apiFunction);
    props.stream.grantWrite(this.apiFunction);
    // The presigned URLs are signed with this role: it can read images and nothing else of the bucket.
    props.imagesBucket.grantRead(this.apiFunction, `${imagesPrefix}*`);
    const apiPolicy = this.apiFunction.role!.node.findChild('DefaultPolicy');
    acknowledgeBucketGrants(apiPolicy, [{ bucket: props.imagesBucket, prefixes: [imagesPrefix], encrypted: true }]);
    acknowledgeTableGrant(apiPolicy, this.table);

    new events.Rule(this, 'KeeperSchedule', {
      description: 'Review queue keeper: queue depth metric and label events left unpublished',
      schedule: events.Schedule.rate(props.keeperInterval ?? Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.apiFunction, { retryAttempts: 0 })],
    });

    if (props.requests) {
      this.intakeFunction = new BlueprintFunction(this, 'IntakeFunction', {
        handlerDir: 'review-api/intake',
        description: 'Turns review requests (uncertain, audit, conflict) into review queue items',
        encryptionKey: props.encryptionKey,
        timeout: Duration.seconds(30),
        environment: env,
      });
      this.intakeFunction.addEventSource(
        new sources.SqsEventSource(props.requests, {
          batchSize: props.intakeBatchSize ?? 10,
          reportBatchItemFailures: true,
        }),
      );
      this.table.grantWriteData(this.intakeFunction);
      acknowledgeTableGrant(this.intakeFunction.role!.node.findChild('DefaultPolicy'), this.table);
    }

    const { api, routes } = this.createApi(props.encryptionKey);
    this.api = api;
    this.routes = routes;

    this.page.deploy({
      mode: 'cognito',
      apiUrl: this.api.apiEndpoint,
      authDomain: this.signIn.baseUrl,
      clientId: this.signIn.client.userPoolClientId,
      redirectUri: this.pageUrl,
    });

    this.alarms = this.createAlarms(props);
  }

  /** Items waiting for a label (leased or not), measured by the keeper. */
  public metricQueueDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('QueueDepth', { statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }

  /** Labels accepted (decided by enough agreeing reviewers) per hour. */
  public metricLabelsPerHour(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('LabelsAccepted', { statistic: 'Sum', period: Duration.hours(1), ...props });
  }

  /** Share of audit items whose first two reviewers agreed (inter-reviewer agreement), per day. */
  public metricAuditAgreementRate(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('AuditAgreement', { statistic: 'Average', period: Duration.days(1), ...props });
  }

  /** Share of decided audit items whose label is the model's top class: the unbiased accuracy estimate, per day. */
  public metricAuditAccuracy(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('AuditModelCorrect', { statistic: 'Average', period: Duration.days(1), ...props });
  }

  /** Items that reached the vote limit without agreement. */
  public metricDisputedItems(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('DisputedItems', { statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }

  /** Lets a principal (an operator) read the queue table, e.g. to inspect disputed items. */
  public grantReadQueue(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadData(grantee);
  }

  private metric(name: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: REVIEW_METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { service: API_SERVICE },
      ...props,
    });
  }

  private validate(props: ReviewAppProps): ReviewPolicy {
    const lease = props.leaseDuration ?? Duration.minutes(5);
    const url = props.imageUrlExpiry ?? Duration.minutes(5);
    if (url.toSeconds() < 10 || url.toSeconds() > 3600) {
      throw new Error(`imageUrlExpiry must be between 10 seconds and 1 hour; received ${url.toHumanString()}`);
    }
    const threshold = props.backlogThreshold ?? 500;
    if (!Number.isInteger(threshold) || threshold < 1) {
      throw new Error(`backlogThreshold must be a positive integer; received ${threshold}`);
    }
    const batch = props.intakeBatchSize ?? 10;
    if (!Number.isInteger(batch) || batch < 1 || batch > 10) {
      throw new Error(
        `intakeBatchSize must be between 1 and 10 (an SQS batch without a batching window); received ${batch}`,
      );
    }
    const prefix = props.imagesPrefix ?? 'images/';
    if (!Token.isUnresolved(prefix) && (!prefix.endsWith('/') || prefix.startsWith('/'))) {
      throw new Error(`imagesPrefix must end with "/" and not start with "/"; received "${prefix}"`);
    }
    try {
      return validatePolicy({
        leaseSeconds: lease.toSeconds(),
        agreement: {
          uncertain: DEFAULT_REVIEW_POLICY.agreement.uncertain,
          audit: props.auditAgreement ?? DEFAULT_REVIEW_POLICY.agreement.audit,
          conflict: props.conflictAgreement ?? DEFAULT_REVIEW_POLICY.agreement.conflict,
        },
        maxVotes: props.maxVotes ?? DEFAULT_REVIEW_POLICY.maxVotes,
      });
    } catch (e) {
      throw new Error(`ReviewApp: ${(e as Error).message.replace(/^leaseSeconds/, 'leaseDuration (seconds)')}`);
    }
  }

  private createApi(key: kms.IKey): { api: apigwv2.HttpApi; routes: apigwv2.HttpRoute[] } {
    const api = new apigwv2.HttpApi(this, 'Api', {
      description: "Reviewers' API (every route behind the Cognito JWT authorizer)",
      createDefaultStage: false,
      defaultAuthorizer: new HttpUserPoolAuthorizer('Reviewers', this.signIn.userPool, {
        userPoolClients: [this.signIn.client],
      }),
      corsPreflight: {
        allowOrigins: [this.pageUrl.replace(/\/$/, '')],
        allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.hours(1),
      },
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      encryptionKey: key,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new apigwv2.HttpStage(this, 'ApiStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 20, burstLimit: 40 },
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });
    const integration = new HttpLambdaIntegration('Handler', this.apiFunction);
    const routes = Object.values(REVIEW_ROUTES).flatMap((route) =>
      api.addRoutes({ path: route.path, methods: [apigwv2.HttpMethod[route.method]], integration }),
    );
    return { api, routes };
  }

  private createAlarms(props: ReviewAppProps): cloudwatch.Alarm[] {
    const alarms = [
      new cloudwatch.Alarm(this, 'BacklogAlarm', {
        alarmDescription: `More than ${props.backlogThreshold ?? 500} review items have waited for an hour (reviewers cannot keep up, or nobody is reviewing). Runbook: ${RUNBOOK}`,
        metric: this.metricQueueDepth({ period: Duration.minutes(15) }),
        threshold: props.backlogThreshold ?? 500,
        evaluationPeriods: 4,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      }),
      new cloudwatch.Alarm(this, 'ApiErrorsAlarm', {
        alarmDescription: `The reviewers' API (or its keeper) failed. Runbook: ${RUNBOOK}`,
        metric: this.apiFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    if (props.alarmTopic) {
      const action = new cwActions.SnsAction(props.alarmTopic);
      for (const alarm of alarms) alarm.addAlarmAction(action);
    }
    return alarms;
  }
}

/** What a table grant adds: its indexes (`<table>/index/*`) and the KMS actions under a customer-managed key. */
function acknowledgeTableGrant(policy: Construct, table: dynamodb.Table): void {
  acknowledgeNag(
    policy,
    `IAM5[Resource::${nagArnName(policy, table.tableArn)}/index/*]`,
    "The table's own indexes (the Queue index): the DynamoDB grant covers them with one pattern.",
  );
  acknowledgeNag(
    policy,
    'IAM5[Action::kms:GenerateDataKey*]',
    'Part of the DynamoDB grant on a table encrypted with a customer-managed key; scoped to that key.',
  );
  acknowledgeNag(
    policy,
    'IAM5[Action::kms:ReEncrypt*]',
    'Part of the DynamoDB grant on a table encrypted with a customer-managed key; scoped to that key.',
  );
}
