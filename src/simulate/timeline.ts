/** Simulated time and the readable timeline: nothing the simulation prints depends on the wall clock. */

/** A clock that only moves when the simulation says so. */
export class SimClock {
  private t: number;

  constructor(start: Date) {
    this.t = start.getTime();
  }

  now(): Date {
    return new Date(this.t);
  }

  /** Moves forward by `ms` (never backwards). */
  advance(ms: number): Date {
    this.t += Math.max(0, ms);
    return this.now();
  }

  /** Moves to `at` when it is later. */
  setAtLeast(at: Date): Date {
    this.t = Math.max(this.t, at.getTime());
    return this.now();
  }
}

/** Where timeline lines go (stdout in the CLI, nowhere with --json). */
export type TimelineSink = (line: string) => void;

/** Timeline lines of one case study, stamped with simulated time. */
export class Timeline {
  constructor(
    private readonly caseStudy: string,
    private readonly clock: SimClock,
    private readonly sink: TimelineSink,
  ) {}

  /** One line: `2026-11-16 09:00:00  recommender  <phase>  <message>`. */
  log(phase: string, message: string): void {
    const at = this.clock.now().toISOString().replace('T', ' ').slice(0, 19);
    this.sink(`${at}  ${this.caseStudy.padEnd(11)}  ${phase.padEnd(9)}  ${message}`);
  }
}
