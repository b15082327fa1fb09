/** The simulation's readable timeline, stamped with simulated time (the clock lives in the local world). */
import type { SimClock } from '../local-world/clock';

export { SimClock } from '../local-world/clock';

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
