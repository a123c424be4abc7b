import type { Clock } from '../../src/clock.js';

/** A clock the test moves by hand: starts at the real time, then only advances when told. */
export class ManualClock implements Clock {
  private t = Date.now();
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
