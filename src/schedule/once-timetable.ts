/**
 * The timetable of `@once`: a single run whose interval is [startDate, startDate], due
 * at the start date. Without a start date the run is due the first time the scheduler
 * asks (its interval is that instant), and no future run is known before that.
 */
import {
  countArg,
  instantArg,
  type PlannedRun,
  plannedRun,
  type Timetable,
} from './planned-run.ts';

export class OnceTimetable implements Timetable {
  /**
   * @param startMs the instant of the single run (null: as soon as the scheduler asks)
   * @param endMs no run after this instant (null: unbounded)
   */
  constructor(
    private readonly startMs: number | null,
    private readonly endMs: number | null,
  ) {}

  nextRuns(after: Date, count: number): PlannedRun[] {
    const afterMs = instantArg(after, 'after');
    countArg(count, 'count');
    const at = this.startMs;
    return at !== null && at > afterMs && count > 0 ? this.runAt(at) : [];
  }

  dueRuns(lastIntervalEnd: Date | null, now: Date, _catchup: boolean, limit: number): PlannedRun[] {
    if (lastIntervalEnd !== null) instantArg(lastIntervalEnd, 'lastIntervalEnd');
    const nowMs = instantArg(now, 'now');
    countArg(limit, 'limit');
    const at = this.startMs ?? nowMs;
    return lastIntervalEnd === null && at <= nowMs && limit > 0 ? this.runAt(at) : [];
  }

  nextRunAfter(now: Date, lastIntervalEnd: Date | null): Date | null {
    const nowMs = instantArg(now, 'now');
    const at = this.startMs;
    if (lastIntervalEnd !== null || at === null || at <= nowMs) return null;
    return this.runAt(at).length > 0 ? new Date(at) : null;
  }

  between(from: Date, to: Date, limit: number): PlannedRun[] {
    const fromMs = instantArg(from, 'from');
    const toMs = instantArg(to, 'to');
    countArg(limit, 'limit');
    const at = this.startMs;
    return at !== null && at >= fromMs && at <= toMs && limit > 0 ? this.runAt(at) : [];
  }

  /** The single run at `at`, or none when it lies after the end date. */
  private runAt(at: number): PlannedRun[] {
    return this.endMs !== null && at > this.endMs ? [] : [plannedRun(at, at)];
  }
}
