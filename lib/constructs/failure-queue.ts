import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';

/** Properties of a {@link FailureQueue}. */
export interface FailureQueueProps {
  /** Customer-managed key of the queue. */
  readonly encryptionKey: kms.IKey;
  /** What fails into it, for the cdk-nag acknowledgement, e.g. `dead-letter queue of the drift checker`. */
  readonly purpose: string;
  /** How long failed messages are kept for an operator. @default Duration.days(14) (the SQS maximum) */
  readonly retentionPeriod?: Duration;
}

/**
 * A queue that receives what failed elsewhere (a dead-letter queue or an on-failure destination): KMS-encrypted
 * with a customer-managed key, TLS-only, messages kept 14 days. It has no dead-letter queue of its own (cdk-nag
 * SQS3 is acknowledged here, once); its owner alarms on its depth.
 */
export class FailureQueue extends sqs.Queue {
  constructor(scope: Construct, id: string, props: FailureQueueProps) {
    super(scope, id, {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
    });
    acknowledgeNag(
      this,
      'SQS3',
      `This queue is itself the ${props.purpose}; its owner alarms on its depth so an operator inspects and replays it.`,
    );
  }
}
