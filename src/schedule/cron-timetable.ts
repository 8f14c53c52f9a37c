/**
 * The timetable of a cron schedule: data intervals between consecutive ticks, bounded by
 * the DAG's start and end dates (an interval is eligible when its start tick is at or
 * after `startDate` and at or before `endDate`).
 */
import type { CronTicks } from './cron-ticks.ts';
import {
  countArg,
  instantArg,
  type PlannedRun,
  plannedRun,
  type Timetable,
} from './planned-run.ts';

/** No lower bound (no start date, no earlier run). */
const UNBOUNDED = Number.NEGATIVE_INFINITY;
/** No tick at or after the lower bound: the schedule has nothing left. */
const EXHAUSTED = Number.POSITIVE_INFINITY;

export class CronTimetable implements Timetable {
  /**
   * @param ticks the compiled schedule
   * @param startMs no interval starts before this instant (null: unbounded)
   * @param endMs no interval starts after this instant (null: unbounded)
   */
  constructor(
    private readonly ticks: CronTicks,
    private readonly startMs: number | null,
    private readonly endMs: number | null,
  ) {}

  nextRuns(after: Date, count: number): PlannedRun[] {
    const afterMs = instantArg(after, 'after');
    countArg(count, 'count');
    const end = this.ticks.after(afterMs);
    if (end === null) return [];
    const start = Math.max(this.ticks.before(end) ?? end, this.firstStart(null));
    return this.collect(start, count, this.lastStart(), () => true);
  }

  dueRuns(lastIntervalEnd: Date | null, now: Date, catchup: boolean, limit: number): PlannedRun[] {
    const lastEndMs =
      lastIntervalEnd === null ? null : instantArg(lastIntervalEnd, 'lastIntervalEnd');
    const nowMs = instantArg(now, 'now');
    countArg(limit, 'limit');
    const first = this.firstStart(lastEndMs);
    if (limit === 0 || first === EXHAUSTED) return [];
    if (catchup && first !== UNBOUNDED) {
      return this.collect(first, limit, this.lastStart(), (end) => end <= nowMs);
    }
    const latest = this.latestComplete(nowMs);
    return latest === null || latest[0] < first ? [] : [plannedRun(latest[0], latest[1])];
  }

  nextRunAfter(now: Date, lastIntervalEnd: Date | null): Date | null {
    const nowMs = instantArg(now, 'now');
    const lastEndMs =
      lastIntervalEnd === null ? null : instantArg(lastIntervalEnd, 'lastIntervalEnd');
    const first = this.firstStart(lastEndMs);
    if (first === EXHAUSTED) return null;
    const endAfterNow = this.ticks.after(nowMs);
    if (endAfterNow === null) return null;
    const start = Math.max(this.ticks.before(endAfterNow) ?? endAfterNow, first);
    if (start > this.lastStart()) return null;
    const end = this.ticks.after(start);
    return end === null ? null : new Date(end);
  }

  between(from: Date, to: Date, limit: number): PlannedRun[] {
    const fromMs = Math.max(instantArg(from, 'from'), this.startMs ?? UNBOUNDED);
    const toMs = Math.min(instantArg(to, 'to'), this.lastStart());
    countArg(limit, 'limit');
    const start = this.ticks.atOrAfter(fromMs);
    return start === null ? [] : this.collect(start, limit, toMs, () => true);
  }

  /**
   * The first eligible interval start at or after the start date and `lastEndMs`:
   * UNBOUNDED when neither is set, EXHAUSTED when no tick follows them.
   */
  private firstStart(lastEndMs: number | null): number {
    const lower = Math.max(this.startMs ?? UNBOUNDED, lastEndMs ?? UNBOUNDED);
    if (lower === UNBOUNDED) return UNBOUNDED;
    return this.ticks.atOrAfter(lower) ?? EXHAUSTED;
  }

  /** The latest instant an interval may start at (the end date). */
  private lastStart(): number {
    return this.endMs ?? Number.POSITIVE_INFINITY;
  }

  /** The intervals from tick `start` on, while they start by `lastStartMs` and `acceptEnd` holds. */
  private collect(
    start: number,
    limit: number,
    lastStartMs: number,
    acceptEnd: (endMs: number) => boolean,
  ): PlannedRun[] {
    const runs: PlannedRun[] = [];
    let tick: number | null = Number.isFinite(start) ? start : null;
    while (runs.length < limit && tick !== null && tick <= lastStartMs) {
      const end = this.ticks.after(tick);
      if (end === null || !acceptEnd(end)) break;
      runs.push(plannedRun(tick, end));
      tick = end;
    }
    return runs;
  }

  /** The latest interval that is complete at `nowMs` and starts by the end date, as [start, end]. */
  private latestComplete(nowMs: number): [number, number] | null {
    const end = this.ticks.atOrBefore(nowMs);
    const start = end === null ? null : this.ticks.before(end);
    if (end === null || start === null) return null;
    if (start <= this.lastStart()) return [start, end];
    const lastStart = this.ticks.atOrBefore(this.lastStart());
    const lastEnd = lastStart === null ? null : this.ticks.after(lastStart);
    return lastStart === null || lastEnd === null ? null : [lastStart, lastEnd];
  }
}
