/** Time, injected wherever it matters: tests and `--clock virtual` pin and advance it. */
export interface Clock {
  now(): number; // epoch milliseconds
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
}

export class VirtualClock implements Clock {
  private readonly listeners: ((now: number) => void)[] = [];
  constructor(private ms = Date.now()) {}
  now(): number {
    return this.ms;
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
    for (const l of this.listeners) l(this.ms);
  }
  set(ms: number): void {
    this.ms = ms;
    for (const l of this.listeners) l(this.ms);
  }
  /** Called after every change of the time (flow-log windows fall due, …). */
  onChange(listener: (now: number) => void): void {
    this.listeners.push(listener);
  }
}
