/**
 * SNS, CloudWatch alarms and Application Auto Scaling: what the loop publishes and puts is recorded; an approval
 * request (a publish that waits for a task token) is answered by the run's approver.
 */
import { FIXED } from '../intrinsics';
import type { Json, ServiceHandlers, WorldContext } from '../types';

/** Messages, alarms and scaling of one world. */
export class Messaging {
  /** Messages published without a task token (the loop's outcomes). */
  readonly notifications: Json[] = [];
  /** Approval requests (published by a `.waitForTaskToken` Task). */
  readonly approvalRequests: Json[] = [];
  /** Alarms put by the loop (scale from zero). */
  readonly alarms: Json[] = [];
  /** Scalable targets registered, by resource ID. */
  readonly scalableTargets = new Map<string, Json>();
  private seq = 0;

  constructor(private readonly world: WorldContext) {}

  /** `sns:publish`. */
  sns(): ServiceHandlers {
    return {
      publish: (i, ctx) => {
        const message = (typeof i.Message === 'string' ? JSON.parse(i.Message) : i.Message) as Json;
        if (ctx.call.pattern === 'waitForTaskToken') {
          this.approvalRequests.push(message);
          return ctx.run.approver(message);
        }
        this.notifications.push(message);
        this.world.log(
          'notify',
          `SNS: run ended "${String(message.status)}"${message.reason ? ` (${String(message.reason).slice(0, 140)})` : ''}`,
        );
        return { MessageId: `m-${++this.seq}` };
      },
    };
  }

  /** `cloudwatch:putMetricAlarm`. */
  cloudwatch(): ServiceHandlers {
    return {
      putMetricAlarm: (i) => {
        this.alarms.push(i);
        return {};
      },
    };
  }

  /** `applicationautoscaling:registerScalableTarget`, `putScalingPolicy`. */
  applicationAutoScaling(): ServiceHandlers {
    const base = `arn:aws:autoscaling:${FIXED.region}:${FIXED.account}`;
    return {
      describeScalableTargets: (i) => ({
        ScalableTargets: [...this.scalableTargets.values()].filter(
          (t) =>
            (!i.ResourceIds || (i.ResourceIds as string[]).includes(String(t.ResourceId))) &&
            (!i.ScalableDimension || t.ScalableDimension === i.ScalableDimension),
        ),
      }),
      deregisterScalableTarget: (i) => {
        this.world.log('autoscale', `scalable target ${String(i.ResourceId)} deregistered`);
        this.scalableTargets.delete(String(i.ResourceId));
        return {};
      },
      registerScalableTarget: (i) => {
        this.scalableTargets.set(String(i.ResourceId), i);
        this.world.log(
          'autoscale',
          `scalable target ${String(i.ResourceId)}: ${String(i.MinCapacity)}…${String(i.MaxCapacity)}`,
        );
        return { ScalableTargetARN: `${base}:scalable-target/${this.seq}` };
      },
      putScalingPolicy: (i) => ({
        // AWS puts a UUID where the local world puts 1.
        PolicyARN: `${base}:scalingPolicy:1:resource/${String(i.ServiceNamespace)}/${String(i.ResourceId)}:policyName/${String(i.PolicyName)}`,
        Alarms: [],
      }),
    };
  }
}
