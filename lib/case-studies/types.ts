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
  /**
   * Other record kinds on the same stream, each with its own lake table (its columns only) and delivery: every
   * delivery converts every record with its table's schema, so each table holds the other kinds as rows of nulls
   * that its queries filter out (e.g. the recommender's served slates, `feature_version IS NOT NULL`).
   * @default none
   */
  readonly extraEventSchemas?: ReadonlyArray<{ readonly schema: EventSchema; readonly prefix: string }>;
  /** Settings that differ from the stage preset, per stage. */
  readonly presets: Readonly<Record<StageName, DeepPartial<BlueprintConfigInput>>>;
}
