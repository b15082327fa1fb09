/**
 * DynamoDB tables (`AWS::DynamoDB::Table` and `AWS::DynamoDB::GlobalTable`): on-demand request units (tables a
 * state machine uses: requests per execution; others: the profile's requests per table) or provisioned
 * capacity-hours, replicated writes for extra replicas, storage and point-in-time recovery.
 * @see https://aws.amazon.com/dynamodb/pricing/
 */
import { costLine, type Pricer } from '../context';
import { CostError, HOURS_PER_MONTH } from '../types';

export const dynamoTable: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const o = ctx.usage.other;
  const users = [...ctx.workload.stateMachines.entries()].filter(([, m]) => m.references.has(ref.id));
  const requests =
    users.length > 0
      ? users.reduce(
          (n, [id]) => n + ctx.workload.executionsPerMonth(id) * ctx.usage.retraining.lockRequestsPerExecution,
          0,
        )
      : o.dynamoRequestsPerOtherTablePerMonth;
  const writes = requests / 2;
  const reads = requests / 2;
  const replicas = Array.isArray(p.Replicas) ? p.Replicas.length : 1;
  const lines = [];
  if (p.BillingMode === 'PROVISIONED') {
    const throughput = (p.ProvisionedThroughput ?? {}) as Record<string, unknown>;
    const wcu = throughput.WriteCapacityUnits;
    const rcu = throughput.ReadCapacityUnits;
    if (typeof wcu !== 'number' || typeof rcu !== 'number') {
      throw new CostError(
        `cannot read the provisioned capacity of ${ref.stack.stackName}/${ref.id} (${ref.resource.Type}); only ProvisionedThroughput is priced`,
      );
    }
    lines.push(
      costLine(
        ref,
        `provisioned writes (${wcu} WCU × ${replicas} replica(s))`,
        wcu * replicas * HOURS_PER_MONTH,
        'WCU-hour',
        ctx.prices.price('dynamodb.provisioned.wcuHour'),
        false,
      ),
      costLine(
        ref,
        `provisioned reads (${rcu} RCU × ${replicas} replica(s))`,
        rcu * replicas * HOURS_PER_MONTH,
        'RCU-hour',
        ctx.prices.price('dynamodb.provisioned.rcuHour'),
        false,
      ),
    );
  } else {
    lines.push(
      costLine(
        ref,
        users.length
          ? `write requests (half of ${ctx.usage.retraining.lockRequestsPerExecution} per execution of ${users.map(([id]) => id).join(', ')})`
          : 'write requests',
        writes,
        'write request unit',
        ctx.prices.price('dynamodb.onDemand.writeRequestUnit'),
        true,
      ),
      costLine(
        ref,
        'read requests',
        reads,
        'read request unit',
        ctx.prices.price('dynamodb.onDemand.readRequestUnit'),
        true,
      ),
    );
    if (replicas > 1) {
      lines.push(
        costLine(
          ref,
          `replicated writes to ${replicas - 1} other region(s)`,
          writes * (replicas - 1),
          'replicated write request unit',
          ctx.prices.price('dynamodb.onDemand.replicatedWriteRequestUnit'),
          true,
        ),
      );
    }
  }
  const storage = o.dynamoStorageGBPerTable * replicas;
  lines.push(costLine(ref, 'storage', storage, 'GB-month', ctx.prices.price('dynamodb.storageGBMonth'), true));
  const pitr = JSON.stringify(p).includes('"PointInTimeRecoveryEnabled":true');
  if (pitr)
    lines.push(
      costLine(ref, 'point-in-time recovery', storage, 'GB-month', ctx.prices.price('dynamodb.pitrGBMonth'), true),
    );
  return lines;
};
