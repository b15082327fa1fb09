/**
 * Step Functions: Standard workflows bill state transitions (transitions per execution × executions); Express
 * workflows bill requests and GB-seconds. X-Ray traces when tracing is on.
 * @see https://aws.amazon.com/step-functions/pricing/
 */
import { costLine, type Pricer } from '../context';

export const stateMachine: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const executions = ctx.workload.executionsPerMonth(ref.id);
  const perExecution = ctx.usage.retraining.stateTransitionsPerExecution;
  const lines =
    p.StateMachineType === 'EXPRESS'
      ? [
          costLine(
            ref,
            'express requests',
            executions,
            'request',
            ctx.prices.price('stepfunctions.express.request'),
            true,
          ),
          costLine(
            ref,
            'express duration (64 MB, 1 s per execution)',
            executions * 0.0625,
            'GB-second',
            ctx.prices.price('stepfunctions.express.gbSecond'),
            true,
          ),
        ]
      : [
          costLine(
            ref,
            `state transitions (${executions.toFixed(2)} executions × ${perExecution})`,
            executions * perExecution,
            'state transition',
            ctx.prices.price('stepfunctions.standard.stateTransition'),
            true,
          ),
        ];
  if ((p.TracingConfiguration as Record<string, unknown> | undefined)?.Enabled === true) {
    lines.push(
      costLine(
        ref,
        'X-Ray traces recorded (one per execution)',
        executions,
        'trace',
        ctx.prices.price('xray.traceRecorded'),
        true,
        'AWS::XRay::Trace',
      ),
    );
  }
  return lines;
};
