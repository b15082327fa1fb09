/**
 * SQS queues (requests), SNS topics (publishes, email deliveries) and EventBridge rules (custom events matched;
 * schedule rules are free and shown with their runs at $0).
 * @see https://aws.amazon.com/sqs/pricing/ https://aws.amazon.com/sns/pricing/ https://aws.amazon.com/eventbridge/pricing/
 */
import { costLine, runsPerMonth, type Pricer } from '../context';

export const sqsQueue: Pricer = (ref, ctx) => {
  const fifo = ref.resource.Properties?.FifoQueue === true;
  return [
    costLine(
      ref,
      `${fifo ? 'FIFO' : 'standard'} requests`,
      ctx.usage.other.sqsRequestsPerQueuePerMonth,
      'request',
      ctx.prices.price(fifo ? 'sqs.fifo.request' : 'sqs.standard.request'),
      true,
    ),
  ];
};

export const snsTopic: Pricer = (ref, ctx) => [
  costLine(ref, 'publishes', ctx.usage.other.snsPublishesPerMonth, 'publish', ctx.prices.price('sns.publish'), true),
  costLine(
    ref,
    'email deliveries',
    ctx.usage.other.snsEmailDeliveriesPerMonth,
    'email notification',
    ctx.prices.price('sns.emailDelivery'),
    true,
  ),
];

export const eventsRule: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  if (typeof p.ScheduleExpression === 'string') {
    return [
      costLine(
        ref,
        `scheduled runs (${p.ScheduleExpression})`,
        runsPerMonth(p.ScheduleExpression),
        'scheduled rule invocation (no charge)',
        ctx.prices.price('events.scheduledInvocation'),
        false,
      ),
    ];
  }
  const sources = ((p.EventPattern as Record<string, unknown> | undefined)?.source ?? []) as unknown[];
  const custom = sources.some((s) => typeof s === 'string' && !s.startsWith('aws.'));
  return custom
    ? [
        costLine(
          ref,
          `custom events published (${sources.join(', ')})`,
          ctx.usage.other.customEventsPerRulePerMonth,
          'event',
          ctx.prices.price('events.customEvent'),
          true,
        ),
      ]
    : [costLine(ref, 'AWS service events (no charge)', 0, 'event', 0, true)];
};
