import type { EventSchema } from '../../core/contracts/events';
import type { BlueprintConfigInput, CaseStudyName, StageName } from '../config/schema';

/** A deep-partial view used for presets and overrides. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Everything that differs between case studies, in one place each. */
export interface CaseStudySpec {
  /** Case-study name, as chosen with `-c caseStudies=…`. */
  readonly name: CaseStudyName;
  /** PascalCase name used in stack names (`Sandbox-Recommender-Data`). */
  readonly displayName: string;
  /** One line on what the system does. */
  readonly summary: string;
  /** Raw events of this case study. */
  readonly eventSchema: EventSchema;
  /** Settings that differ from the stage preset, per stage. */
  readonly presets: Readonly<Record<StageName, DeepPartial<BlueprintConfigInput>>>;
}
