/**
 * KMS keys (key-months and requests), Athena workgroups (TB scanned by the retraining loop and ad hoc),
 * Glue Data Catalog objects (databases and tables, per object-month), API Gateway APIs (requests).
 * @see https://aws.amazon.com/kms/pricing/ https://aws.amazon.com/athena/pricing/ https://aws.amazon.com/glue/pricing/
 *   https://aws.amazon.com/api-gateway/pricing/
 */
import { costLine, type Pricer } from '../context';
import { CostError } from '../types';

export const kmsKey: Pricer = (ref, ctx) => [
  costLine(ref, 'customer-managed key', 1, 'key-month', ctx.prices.price('kms.keyMonth'), false),
  costLine(
    ref,
    'API requests',
    ctx.usage.other.kmsRequestsPerKeyPerMonth,
    'request',
    ctx.prices.price('kms.request'),
    true,
  ),
];

export const athenaWorkGroup: Pricer = (ref, ctx) => {
  const executions = [...ctx.workload.stateMachines.keys()].reduce(
    (n, id) => n + ctx.workload.executionsPerMonth(id),
    0,
  );
  const loopGB = executions * ctx.usage.retraining.athenaScannedGBPerExecution;
  const adHocGB = ctx.usage.other.athenaAdHocScannedGBPerMonth;
  const scheduledGB = ctx.usage.other.athenaScheduledScannedGBPerMonth;
  return [
    costLine(
      ref,
      `data scanned (${executions.toFixed(2)} loop executions × ${ctx.usage.retraining.athenaScannedGBPerExecution} GB + ${scheduledGB} GB scheduled + ${adHocGB} GB ad hoc)`,
      (loopGB + scheduledGB + adHocGB) / 1024,
      'TB scanned',
      ctx.prices.price('athena.scannedTB'),
      true,
    ),
  ];
};

export const glueCatalogObject: Pricer = (ref, ctx) => [
  costLine(
    ref,
    'Data Catalog object (partition projection: no partitions stored)',
    1,
    'object-month',
    ctx.prices.price('glue.catalogObjectMonth'),
    false,
  ),
];

export const restApi: Pricer = (ref, ctx) => [
  costLine(
    ref,
    'REST API requests',
    ctx.usage.other.apiRequestsPerMonth,
    'request',
    ctx.prices.price('apigateway.rest.request'),
    true,
  ),
];

export const httpApi: Pricer = (ref, ctx) => {
  const websocket = ref.resource.Properties?.ProtocolType === 'WEBSOCKET';
  if (websocket) throw new CostError(`WebSocket APIs are not priced yet (${ref.stack.stackName}/${ref.id})`);
  return [
    costLine(
      ref,
      'HTTP API requests',
      ctx.usage.other.apiRequestsPerMonth,
      'request',
      ctx.prices.price('apigateway.http.request'),
      true,
    ),
  ];
};
