/**
 * Reviewers' sign-in: a Cognito user pool where only administrators create users (no self sign-up), TOTP MFA
 * (required or optional), a strong password policy, and a public app client for the hosted UI's authorization-code
 * flow with PKCE (no client secret in a browser page).
 */
import { Aws, Duration, Fn, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../../nag';

/** Properties of {@link ReviewerSignIn}. */
export interface ReviewerSignInProps {
  /** Where the hosted UI sends reviewers back (the page), with a trailing slash. */
  readonly pageUrl: string;
  /** Whether TOTP MFA is required (production) or optional (sandbox). */
  readonly mfaRequired: boolean;
  /**
   * Prefix of the hosted UI's domain, unique in the region across AWS accounts.
   * @see https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-assign-domain-prefix.html
   * @default `mlbp-review-<account id>-<10 hex characters of this construct's address>`
   */
  readonly domainPrefix?: string;
  readonly removalPolicy: RemovalPolicy;
}

const PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The user pool, its domain and the page's app client. */
export class ReviewerSignIn extends Construct {
  public readonly userPool: cognito.UserPool;
  public readonly client: cognito.UserPoolClient;
  public readonly domain: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, props: ReviewerSignInProps) {
    super(scope, id);
    const prefix = props.domainPrefix ?? Fn.join('-', ['mlbp-review', Aws.ACCOUNT_ID, this.node.addr.slice(0, 10)]);
    if (!Token.isUnresolved(prefix) && (!PREFIX.test(prefix) || /aws|amazon|cognito/.test(prefix))) {
      throw new Error(
        `domainPrefix must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen and without "aws", "amazon" or "cognito"; received "${prefix}"`,
      );
    }
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      mfa: props.mfaRequired ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      userInvitation: {
        emailSubject: 'You are invited to review images (ml-blueprint)',
        emailBody: `Your username is {username} and your temporary password is {####}. Sign in at ${props.pageUrl}`,
      },
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
    acknowledgeNag(
      this.userPool,
      'COG8',
      'The Plus feature plan (threat protection) is billed per monthly active user; reviewers are a handful of admin-created users with MFA and strong passwords. Enable it for a large reviewer pool.',
    );
    if (!props.mfaRequired) {
      acknowledgeNag(
        this.userPool,
        'COG2',
        'MFA is optional in the sandbox (mfaRequired: false) so a new account can try the page at once; production requires TOTP MFA.',
      );
    }
    this.domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: prefix } });
    this.client = this.userPool.addClient('PageClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [props.pageUrl],
        logoutUrls: [props.pageUrl],
      },
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
    });
  }

  /** `https://<prefix>.auth.<region>.amazoncognito.com`, the hosted UI. */
  public get baseUrl(): string {
    return this.domain.baseUrl();
  }
}
