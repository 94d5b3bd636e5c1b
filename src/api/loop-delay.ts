/**
 * A hidden debug figure of the API server: how long its event loop was held (perf_hooks'
 * monitorEventLoopDelay, 1 ms resolution) and how busy it was (event loop utilization) since the
 * measuring began or was last reset. Off until first asked for (`GET /_hull/loop-delay`): an idle
 * server takes no timer wake-ups for it. No Docker client asks for it; tests and benchmarks do.
 */
import { type EventLoopUtilization, type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface LoopDelayFigures {
  /** Milliseconds the loop started late (held by something else), over `samples` 1 ms ticks. */
  maxMs: number;
  p99Ms: number;
  meanMs: number;
  samples: number;
  /** Share of the time the loop was running something (0 to 1). */
  utilization: number;
  /** Milliseconds measured. */
  sinceMs: number;
}

const ms = (ns: number) => Math.round(ns / 1e4) / 100;

export class LoopDelay {
  private histogram: IntervalHistogram | undefined;
  private elu: EventLoopUtilization | undefined;
  private since = 0;

  /** The figures since the start (or last reset); the first call starts measuring. `reset` starts a new period after reading. */
  read(reset: boolean): LoopDelayFigures {
    if (this.histogram === undefined) {
      this.histogram = monitorEventLoopDelay({ resolution: 1 });
      this.histogram.enable();
      this.restart();
    }
    const h = this.histogram;
    const empty = h.count === 0;
    const figures: LoopDelayFigures = {
      maxMs: empty ? 0 : ms(h.max),
      p99Ms: empty ? 0 : ms(h.percentile(99)),
      meanMs: empty ? 0 : ms(h.mean),
      samples: h.count,
      utilization: Math.round(performance.eventLoopUtilization(this.elu).utilization * 1000) / 1000,
      sinceMs: Math.round(performance.now() - this.since),
    };
    if (reset) this.restart();
    return figures;
  }

  close(): void {
    this.histogram?.disable();
    this.histogram = undefined;
  }

  private restart(): void {
    this.histogram?.reset();
    this.elu = performance.eventLoopUtilization();
    this.since = performance.now();
  }
}
