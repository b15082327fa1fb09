/**
 * Every CloudFormation resource type the estimator knows: priced (with its pricer) or free (with the reason).
 * A type in neither list fails the estimate, naming the type and the stack: nothing billable is skipped silently.
 * Add a pricer module in `src/cost/pricers/` and an entry here when the blueprint starts using a new type.
 */
import type { Pricer } from './context';
import { athenaWorkGroup, glueCatalogObject, httpApi, kmsKey, restApi } from './pricers/data';
import { dynamoTable } from './pricers/dynamodb';
import { firehoseDeliveryStream } from './pricers/firehose';
import { kinesisStream, kinesisStreamConsumer } from './pricers/kinesis';
import { lambdaFunction } from './pricers/lambda';
import { eventsRule, snsTopic, sqsQueue } from './pricers/messaging';
import { alarm, compositeAlarm, customMetricLines, dashboard, logGroup } from './pricers/monitoring';
import { s3Bucket } from './pricers/s3';
import { endpointConfigLines } from './pricers/sagemaker';
import { stateMachine } from './pricers/stepfunctions';

/** A priced type: its AWS service (for grouping) and pricer. */
export interface PricedType {
  readonly kind: 'priced';
  readonly service: string;
  readonly pricer: Pricer;
}

/** A type that costs nothing by itself, and why. */
export interface FreeType {
  readonly kind: 'free';
  readonly reason: string;
}

/** How a resource type is treated. */
export type Classification = PricedType | FreeType;

const priced = (service: string, pricer: Pricer): PricedType => ({ kind: 'priced', service, pricer });
const free = (reason: string): FreeType => ({ kind: 'free', reason });

/** Priced types. */
export const PRICED_TYPES: Readonly<Record<string, PricedType>> = {
  'AWS::Kinesis::Stream': priced('Kinesis Data Streams', kinesisStream),
  'AWS::Kinesis::StreamConsumer': priced('Kinesis Data Streams', kinesisStreamConsumer),
  'AWS::KinesisFirehose::DeliveryStream': priced('Data Firehose', firehoseDeliveryStream),
  'AWS::S3::Bucket': priced('S3', s3Bucket),
  'AWS::SageMaker::EndpointConfig': priced('SageMaker', endpointConfigLines),
  'AWS::Lambda::Function': priced('Lambda', (ref, ctx) => [
    ...lambdaFunction(ref, ctx),
    ...customMetricLines(ref, ctx),
  ]),
  'AWS::StepFunctions::StateMachine': priced('Step Functions', stateMachine),
  'AWS::DynamoDB::Table': priced('DynamoDB', dynamoTable),
  'AWS::DynamoDB::GlobalTable': priced('DynamoDB', dynamoTable),
  'AWS::SQS::Queue': priced('SQS', sqsQueue),
  'AWS::SNS::Topic': priced('SNS', snsTopic),
  'AWS::Events::Rule': priced('EventBridge', eventsRule),
  'AWS::CloudWatch::Alarm': priced('CloudWatch', alarm),
  'AWS::CloudWatch::CompositeAlarm': priced('CloudWatch', compositeAlarm),
  'AWS::CloudWatch::Dashboard': priced('CloudWatch', dashboard),
  'AWS::Logs::LogGroup': priced('CloudWatch Logs', logGroup),
  'AWS::KMS::Key': priced('KMS', kmsKey),
  'AWS::Athena::WorkGroup': priced('Athena', athenaWorkGroup),
  'AWS::Glue::Database': priced('Glue Data Catalog', glueCatalogObject),
  'AWS::Glue::Table': priced('Glue Data Catalog', glueCatalogObject),
  'AWS::ApiGateway::RestApi': priced('API Gateway', restApi),
  'AWS::ApiGatewayV2::Api': priced('API Gateway', httpApi),
};

/** Types with no charge of their own. */
export const FREE_TYPES: Readonly<Record<string, FreeType>> = {
  'AWS::CDK::Metadata': free('CDK bookkeeping, not deployed as a billable resource'),
  'AWS::IAM::Role': free('IAM has no charge'),
  'AWS::IAM::Policy': free('IAM has no charge'),
  'AWS::IAM::ManagedPolicy': free('IAM has no charge'),
  'AWS::IAM::InstanceProfile': free('IAM has no charge'),
  'AWS::S3::BucketPolicy': free('part of the bucket; no charge'),
  'AWS::SQS::QueuePolicy': free('part of the queue; no charge'),
  'AWS::SNS::TopicPolicy': free('part of the topic; no charge'),
  'AWS::SNS::Subscription': free('deliveries are priced on the topic'),
  'AWS::Lambda::Permission': free('resource policy of a function; no charge'),
  'AWS::Lambda::EventInvokeConfig': free('async invocation settings; no charge'),
  'AWS::Lambda::EventSourceMapping': free('polling is free; invocations are priced on the function'),
  'AWS::Lambda::Url': free('function URLs have no charge; invocations are priced on the function'),
  'AWS::Lambda::Version': free('no charge'),
  'AWS::Lambda::Alias': free('no charge'),
  'AWS::Logs::LogStream': free('ingestion and storage are priced on the log group'),
  'AWS::Logs::MetricFilter': free('no charge for the filter (its metrics are standard CloudWatch metrics)'),
  'AWS::Logs::SubscriptionFilter': free('no charge for the filter'),
  'AWS::KMS::Alias': free('no charge'),
  'AWS::SageMaker::ModelPackageGroup': free('the model registry has no charge; artifacts are priced in S3'),
  'AWS::SageMaker::Model': free('billed through the endpoint that hosts it'),
  'AWS::SageMaker::Endpoint': free('billed through its endpoint config (instance-hours)'),
  'AWS::ApplicationAutoScaling::ScalableTarget': free('Application Auto Scaling has no charge'),
  'AWS::ApplicationAutoScaling::ScalingPolicy': free('Application Auto Scaling has no charge'),
  'AWS::ApiGateway::Deployment': free('requests are priced on the API'),
  'AWS::ApiGateway::Stage': free('requests are priced on the API (no cache cluster configured)'),
  'AWS::ApiGateway::Resource': free('requests are priced on the API'),
  'AWS::ApiGateway::Method': free('requests are priced on the API'),
  'AWS::ApiGateway::Account': free('account settings; no charge'),
  'AWS::ApiGatewayV2::Stage': free('requests are priced on the API'),
  'AWS::ApiGatewayV2::Route': free('requests are priced on the API'),
  'AWS::ApiGatewayV2::Integration': free('requests are priced on the API'),
  'AWS::ApiGatewayV2::Authorizer': free('JWT authorizers have no charge; requests are priced on the API'),
  // The reviewers' page (lib/constructs/review-app.ts): a handful of reviewers stays inside these free tiers.
  'AWS::Cognito::UserPool': free(
    'Essentials feature plan: the first 10,000 monthly active users are free (https://aws.amazon.com/cognito/pricing/); reviewers are a handful',
  ),
  'AWS::Cognito::UserPoolClient': free('part of the user pool; no charge'),
  'AWS::Cognito::UserPoolDomain': free('part of the user pool; no charge'),
  'AWS::CloudFront::Distribution': free(
    "always-free tier: 1 TB out and 10 million requests a month (https://aws.amazon.com/cloudfront/pricing/); the reviewers' page is a few kilobytes per visit",
  ),
  'AWS::CloudFront::OriginAccessControl': free('no charge'),
  'AWS::CloudFront::ResponseHeadersPolicy': free('no charge'),
  'AWS::Lambda::LayerVersion': free('layers have no charge (storage counts toward the Lambda code storage quota)'),
  'AWS::CloudFormation::CustomResource': free('runs its provider function at deploy time only'),
};

/** `Custom::*` resources run a provider function at deploy time; the function is priced as a Lambda. */
const CUSTOM_RESOURCE = free('custom resource: runs its provider function at deploy time only');

/** How a type is treated, or undefined for an unknown (unpriced billable) type. */
export function classify(type: string): Classification | undefined {
  return PRICED_TYPES[type] ?? FREE_TYPES[type] ?? (type.startsWith('Custom::') ? CUSTOM_RESOURCE : undefined);
}

/** The AWS service of a line type (resource types and the SageMaker types state machines create). */
export function serviceOf(type: string): string {
  if (type.startsWith('AWS::SageMaker::')) return 'SageMaker';
  if (type === 'AWS::XRay::Trace') return 'X-Ray';
  return PRICED_TYPES[type]?.service ?? type.split('::')[1] ?? type;
}
