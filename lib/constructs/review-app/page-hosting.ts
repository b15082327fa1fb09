/**
 * Serves the reviewers' page privately: a bucket that blocks all public access, read only by one CloudFront
 * distribution through origin access control, HTTPS only, strict security headers; the page and its `config.json`
 * are deployed with the stack (the page bundled by esbuild, never Docker).
 */
import { DockerImage, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { acknowledgeBucketGrants, acknowledgeNag, nagArnName } from '../../nag';
import { SecureBucket } from '../secure-bucket';
import { buildReviewPage, REVIEW_PAGE_DIR } from './page';

/** Properties of {@link PageHosting}. */
export interface PageHostingProps {
  readonly removalPolicy: RemovalPolicy;
  /** Key of the deployment function's log group. */
  readonly encryptionKey: kms.IKey;
  /** Where the page bucket's access logs go. @default none (acknowledged: the bucket holds only the page's code) */
  readonly accessLogsBucket?: s3.IBucket;
  /** A WAF web ACL (scope CLOUDFRONT) for the distribution. @default none */
  readonly webAclId?: string;
}

/** The page's bucket and distribution (the deployment is added once the page's settings are known). */
export class PageHosting extends Construct {
  public readonly bucket: SecureBucket;
  public readonly distribution: cloudfront.Distribution;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: PageHostingProps,
  ) {
    super(scope, id);
    // SSE-S3: the bucket holds only the page's public code (HTML, CSS, JS), no data; CloudFront's origin access
    // control then needs no grant on a KMS key.
    this.bucket = new SecureBucket(this, 'Bucket', {
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: props.accessLogsBucket ? 'review-page/' : undefined,
      removalPolicy: props.removalPolicy,
    });
    if (!props.accessLogsBucket) {
      acknowledgeNag(
        this.bucket,
        'S1',
        "The bucket holds only the reviewers' page code and is read only by CloudFront; the data (queue, labels, images) is reached through the API, whose access logs record every request.",
      );
    }
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy:
            "default-src 'self'; img-src 'self' https://*.amazonaws.com; connect-src 'self' https://*.amazonaws.com https://*.amazoncognito.com; frame-ancestors 'none'; base-uri 'none'; form-action 'self' https://*.amazoncognito.com",
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: "ml-blueprint reviewers' page",
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      webAclId: props.webAclId,
    });
    const d = this.distribution;
    acknowledgeNag(
      d,
      'CFR1',
      'Reviewers may work from anywhere; access is controlled by Cognito sign-in, not geography.',
    );
    acknowledgeNag(
      d,
      'CFR3',
      'CloudFront standard logs need an ACL-enabled bucket; the page is static code, and every data request is logged by the API stage.',
    );
    acknowledgeNag(
      d,
      'CFR4',
      'The default CloudFront certificate (no custom domain) cannot pin the minimum TLS version; add a domain and certificate to set TLSv1.2_2021.',
    );
    if (!props.webAclId) {
      acknowledgeNag(
        d,
        'CFR2',
        'A WAF web ACL costs a monthly fee per ACL and rule; the page is static and the API requires a Cognito JWT. Pass webAclId to attach one.',
      );
    }
  }

  /**
   * Deploys the page and its `config.json` to the bucket and invalidates the distribution. The deployment function
   * gets its own role and KMS-encrypted log group (no AWS managed policy).
   */
  public deploy(config: Record<string, string>): s3deploy.BucketDeployment {
    const logGroup = new logs.LogGroup(this, 'DeploymentLogs', {
      encryptionKey: this.props.encryptionKey,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: "Deploys the reviewers' page to its bucket",
    });
    logGroup.grantWrite(role);
    const deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      sources: [
        s3deploy.Source.asset(REVIEW_PAGE_DIR, {
          bundling: {
            // Bundled locally with esbuild; the image is never pulled (tryBundle always succeeds).
            image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
            local: {
              tryBundle(outputDir: string) {
                buildReviewPage(outputDir);
                return true;
              },
            },
          },
        }),
        s3deploy.Source.jsonData('config.json', config),
      ],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
      role,
      logGroup,
    });
    this.acknowledgeDeployment(role);
    return deployment;
  }

  private acknowledgeDeployment(role: iam.Role): void {
    const policy = role.node.findChild('DefaultPolicy');
    acknowledgeBucketGrants(policy, [{ bucket: this.bucket, prefixes: [''], write: 'read-write' }]);
    // The CDK assets bucket (the page's zip) and CloudFront invalidations, which have no resource-level permissions.
    const document = Stack.of(this).resolve((policy as iam.Policy).document) as {
      Statement: Array<{ Resource?: unknown }>;
    };
    for (const statement of document.Statement) {
      for (const raw of [statement.Resource].flat()) {
        // An intrinsic (the assets bucket of an environment-agnostic account) is named as cdk-nag renders it.
        const resource = typeof raw === 'string' ? raw : raw ? nagArnName(policy, Token.asString(raw)) : undefined;
        if (resource === undefined || !resource.includes('*')) continue;
        acknowledgeNag(
          policy,
          `IAM5[Resource::${resource}]`,
          resource === '*'
            ? 'cloudfront:CreateInvalidation/GetInvalidation of the page after a deployment; the actions have no resource-level permissions.'
            : "Reads the page's asset (a zip) from the CDK assets bucket during deployment.",
        );
      }
    }
    // The provider function is a singleton at stack level, named after its settings.
    for (const handler of Stack.of(this).node.children) {
      if (!handler.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
      acknowledgeNag(
        handler.node.defaultChild ?? handler,
        'L1',
        "The BucketDeployment provider's runtime is chosen by aws-cdk-lib and updated with it; it runs only during deployments.",
      );
    }
  }
}
