/** Simulated time: nothing the local world records or prints depends on the wall clock. */

/** A clock that only moves when the world (or the simulation) says so. */
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

/** Where the world reports what it does: `phase` (athena, train, deploy, …) and a readable message. */
export type WorldLog = (phase: string, message: string) => void;
