import { describe, expect, it } from 'vitest';
import { FINISHED_TASK_STATES, TASK_STATES, type TaskState } from '../../src/core/states.ts';
import {
  evaluateTriggerRule,
  TRIGGER_RULES,
  type TriggerDecision,
  type TriggerRule,
} from '../../src/core/trigger-rules.ts';

// Representative upstream mixes; `running` stands for any unfinished state.
const MIXES = {
  allSuccess: ['success', 'success'],
  allFailed: ['failed', 'failed'],
  failedAndUpstreamFailed: ['failed', 'upstream_failed'],
  allUpstreamFailed: ['upstream_failed', 'upstream_failed'],
  allSkipped: ['skipped', 'skipped'],
  successFailed: ['success', 'failed'],
  successSkipped: ['success', 'skipped'],
  failedSkipped: ['failed', 'skipped'],
  skippedUpstreamFailed: ['skipped', 'upstream_failed'],
  successRunning: ['success', 'running'],
  failedRunning: ['failed', 'running'],
  upstreamFailedRunning: ['upstream_failed', 'running'],
  skippedRunning: ['skipped', 'running'],
  allRunning: ['running', 'queued'],
  retrying: ['success', 'up_for_retry'],
} as const satisfies Record<string, readonly TaskState[]>;
type Mix = keyof typeof MIXES;

const EXPECTED: Record<TriggerRule, Record<Mix, TriggerDecision>> = {
  all_success: {
    allSuccess: 'run',
    allFailed: 'upstream_failed',
    failedAndUpstreamFailed: 'upstream_failed',
    allUpstreamFailed: 'upstream_failed',
    allSkipped: 'skip',
    successFailed: 'upstream_failed',
    successSkipped: 'skip',
    failedSkipped: 'upstream_failed',
    skippedUpstreamFailed: 'upstream_failed',
    successRunning: 'wait',
    failedRunning: 'upstream_failed',
    upstreamFailedRunning: 'upstream_failed',
    skippedRunning: 'skip',
    allRunning: 'wait',
    retrying: 'wait',
  },
  all_failed: {
    allSuccess: 'skip',
    allFailed: 'run',
    failedAndUpstreamFailed: 'run',
    allUpstreamFailed: 'run',
    allSkipped: 'skip',
    successFailed: 'skip',
    successSkipped: 'skip',
    failedSkipped: 'skip',
    skippedUpstreamFailed: 'skip',
    successRunning: 'skip',
    failedRunning: 'wait',
    upstreamFailedRunning: 'wait',
    skippedRunning: 'skip',
    allRunning: 'wait',
    retrying: 'skip',
  },
  all_done: {
    allSuccess: 'run',
    allFailed: 'run',
    failedAndUpstreamFailed: 'run',
    allUpstreamFailed: 'run',
    allSkipped: 'run',
    successFailed: 'run',
    successSkipped: 'run',
    failedSkipped: 'run',
    skippedUpstreamFailed: 'run',
    successRunning: 'wait',
    failedRunning: 'wait',
    upstreamFailedRunning: 'wait',
    skippedRunning: 'wait',
    allRunning: 'wait',
    retrying: 'wait',
  },
  all_skipped: {
    allSuccess: 'skip',
    allFailed: 'skip',
    failedAndUpstreamFailed: 'skip',
    allUpstreamFailed: 'skip',
    allSkipped: 'run',
    successFailed: 'skip',
    successSkipped: 'skip',
    failedSkipped: 'skip',
    skippedUpstreamFailed: 'skip',
    successRunning: 'skip',
    failedRunning: 'skip',
    upstreamFailedRunning: 'skip',
    skippedRunning: 'wait',
    allRunning: 'wait',
    retrying: 'skip',
  },
  one_success: {
    allSuccess: 'run',
    allFailed: 'upstream_failed',
    failedAndUpstreamFailed: 'upstream_failed',
    allUpstreamFailed: 'upstream_failed',
    allSkipped: 'skip',
    successFailed: 'run',
    successSkipped: 'run',
    failedSkipped: 'skip',
    skippedUpstreamFailed: 'skip',
    successRunning: 'run',
    failedRunning: 'wait',
    upstreamFailedRunning: 'wait',
    skippedRunning: 'wait',
    allRunning: 'wait',
    retrying: 'run',
  },
  one_failed: {
    allSuccess: 'skip',
    allFailed: 'run',
    failedAndUpstreamFailed: 'run',
    allUpstreamFailed: 'run',
    allSkipped: 'skip',
    successFailed: 'run',
    successSkipped: 'skip',
    failedSkipped: 'run',
    skippedUpstreamFailed: 'run',
    successRunning: 'wait',
    failedRunning: 'run',
    upstreamFailedRunning: 'run',
    skippedRunning: 'wait',
    allRunning: 'wait',
    retrying: 'wait',
  },
  one_done: {
    allSuccess: 'run',
    allFailed: 'run',
    failedAndUpstreamFailed: 'run',
    allUpstreamFailed: 'skip',
    allSkipped: 'skip',
    successFailed: 'run',
    successSkipped: 'run',
    failedSkipped: 'run',
    skippedUpstreamFailed: 'skip',
    successRunning: 'run',
    failedRunning: 'run',
    upstreamFailedRunning: 'wait',
    skippedRunning: 'wait',
    allRunning: 'wait',
    retrying: 'run',
  },
  none_failed: {
    allSuccess: 'run',
    allFailed: 'upstream_failed',
    failedAndUpstreamFailed: 'upstream_failed',
    allUpstreamFailed: 'upstream_failed',
    allSkipped: 'run',
    successFailed: 'upstream_failed',
    successSkipped: 'run',
    failedSkipped: 'upstream_failed',
    skippedUpstreamFailed: 'upstream_failed',
    successRunning: 'wait',
    failedRunning: 'upstream_failed',
    upstreamFailedRunning: 'upstream_failed',
    skippedRunning: 'wait',
    allRunning: 'wait',
    retrying: 'wait',
  },
  none_failed_min_one_success: {
    allSuccess: 'run',
    allFailed: 'upstream_failed',
    failedAndUpstreamFailed: 'upstream_failed',
    allUpstreamFailed: 'upstream_failed',
    allSkipped: 'skip',
    successFailed: 'upstream_failed',
    successSkipped: 'run',
    failedSkipped: 'upstream_failed',
    skippedUpstreamFailed: 'upstream_failed',
    successRunning: 'wait',
    failedRunning: 'upstream_failed',
    upstreamFailedRunning: 'upstream_failed',
    skippedRunning: 'wait',
    allRunning: 'wait',
    retrying: 'wait',
  },
  none_skipped: {
    allSuccess: 'run',
    allFailed: 'run',
    failedAndUpstreamFailed: 'run',
    allUpstreamFailed: 'run',
    allSkipped: 'skip',
    successFailed: 'run',
    successSkipped: 'skip',
    failedSkipped: 'skip',
    skippedUpstreamFailed: 'skip',
    successRunning: 'wait',
    failedRunning: 'wait',
    upstreamFailedRunning: 'wait',
    skippedRunning: 'skip',
    allRunning: 'wait',
    retrying: 'wait',
  },
  always: {
    allSuccess: 'run',
    allFailed: 'run',
    failedAndUpstreamFailed: 'run',
    allUpstreamFailed: 'run',
    allSkipped: 'run',
    successFailed: 'run',
    successSkipped: 'run',
    failedSkipped: 'run',
    skippedUpstreamFailed: 'run',
    successRunning: 'run',
    failedRunning: 'run',
    upstreamFailedRunning: 'run',
    skippedRunning: 'run',
    allRunning: 'run',
    retrying: 'run',
  },
};

const CASES = TRIGGER_RULES.flatMap((rule) =>
  (Object.keys(MIXES) as Mix[]).map((mix) => [rule, mix, EXPECTED[rule][mix]] as const),
);

describe('evaluateTriggerRule', () => {
  it.each(CASES)('%s with %s upstream → %s', (rule, mix, decision) => {
    expect(evaluateTriggerRule(rule, MIXES[mix])).toBe(decision);
    expect(evaluateTriggerRule(rule, [...MIXES[mix]].reverse())).toBe(decision);
  });

  it.each(TRIGGER_RULES)('%s runs a task without upstream tasks', (rule) => {
    expect(evaluateTriggerRule(rule, [])).toBe('run');
  });

  // Every multiset of up to three upstream states, to check two invariants for every rule.
  const vectors: TaskState[][] = [[]];
  for (let size = 0; size < 3; size++) {
    for (const vector of vectors.filter((v) => v.length === size)) {
      for (const state of TASK_STATES) vectors.push([...vector, state]);
    }
  }
  const done = (v: readonly TaskState[]) =>
    v.every((s) => (FINISHED_TASK_STATES as readonly string[]).includes(s));

  it.each(TRIGGER_RULES)('%s decides once every upstream task is done', (rule) => {
    for (const vector of vectors.filter(done)) {
      expect(evaluateTriggerRule(rule, vector)).not.toBe('wait');
    }
  });

  // An early decision is final as to whether the task runs. Which "not run" state it gets
  // can depend on timing for all_success: a skipped upstream skips it at once, even if
  // another upstream task would fail later (as in Airflow).
  it.each(TRIGGER_RULES)('%s: an early decision never flips between run and not run', (rule) => {
    for (const vector of vectors.filter((v) => !done(v))) {
      const early = evaluateTriggerRule(rule, vector);
      if (early === 'wait') continue;
      for (const finish of FINISHED_TASK_STATES) {
        const later = vector.map((s) =>
          (FINISHED_TASK_STATES as readonly string[]).includes(s) ? s : finish,
        );
        const decided = evaluateTriggerRule(rule, later);
        expect(decided === 'run', `${vector} → ${later}`).toBe(early === 'run');
        if (rule !== 'all_success') expect(decided, `${vector} → ${later}`).toBe(early);
      }
    }
  });

  it('all_success skips at once on a skipped upstream, even if another one fails later', () => {
    expect(evaluateTriggerRule('all_success', ['skipped', 'running'])).toBe('skip');
    expect(evaluateTriggerRule('all_success', ['skipped', 'failed'])).toBe('upstream_failed');
  });
});
