import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag AwsSolutions finding on one construct, fully qualified as the plugin reports it
 * (`AwsSolutions::AwsSolutions-IAM5[Action::s3:List*]`). Put it on the narrowest construct and give a reason a
 * reviewer would accept.
 */
export function acknowledgeNag(construct: IConstruct, finding: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: `AwsSolutions::AwsSolutions-${finding}`, reason });
}
