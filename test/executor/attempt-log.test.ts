import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { AttemptLog, type AttemptLogRecord } from '../../src/executor/attempt-log.ts';
import type { AttemptKey } from '../../src/executor/executor.ts';
import { readLog, tempDir } from './support.ts';

const key: AttemptKey = {
  dagId: 'etl',
  runId: 'manual__1',
  taskId: 'load',
  mapIndex: 2,
  tryNumber: 3,
};
const clock = new ManualClock('2024-05-01T02:00:03.120Z');

describe('AttemptLog', () => {
  it('writes one JSON object per line: time, level, msg, correlation ids, then fields', async () => {
    const file = path.join(tempDir(), 'nested', 'dir', 'load.log');
    const seen: AttemptLogRecord[] = [];
    const log = await AttemptLog.open(file, key, clock, (record) => seen.push(record));
    log.info('loaded', { rows: 3, task_id: 'not-overridden' });
    log.error('failed', { error: new TypeError('bad'), big: 10n });
    expect(await log.close()).toBeUndefined();
    log.warn('after close is dropped');

    const records = readLog(file);
    // Entries, so that the order of the fields is checked too.
    expect(Object.entries(records[0] ?? {})).toEqual(
      Object.entries({
        time: '2024-05-01T02:00:03.120Z',
        level: 'info',
        msg: 'loaded',
        dag_id: 'etl',
        run_id: 'manual__1',
        task_id: 'load',
        map_index: 2,
        try_number: 3,
        rows: 3,
      }),
    );
    expect(records[1]).toMatchObject({
      level: 'error',
      error: { name: 'TypeError', message: 'bad' },
      big: '10',
    });
    expect(records).toHaveLength(2);
    expect(seen).toEqual(records);
  });

  it('masks registered secrets, raw and URL-encoded', async () => {
    const file = path.join(tempDir(), 'load.log');
    const log = await AttemptLog.open(file, key, clock);
    log.maskSecret('p@ss"word');
    log.maskSecret('ab'); // too short to mask
    log.info('connecting with p@ss"word', { url: 'postgres://u:p%40ss%22word@h/db', note: 'ab' });
    await log.close();
    const [record] = readLog(file);
    expect(record).toMatchObject({
      msg: 'connecting with ***',
      url: 'postgres://u:***@h/db',
      note: 'ab',
    });
  });

  it('keeps the record when its fields cannot be serialised', async () => {
    const file = path.join(tempDir(), 'load.log');
    const log = await AttemptLog.open(file, key, clock);
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    log.info('with a cycle', { cycle });
    await log.close();
    expect(readLog(file)[0]).toMatchObject({
      msg: 'with a cycle',
      task_id: 'load',
      fields_error: expect.stringContaining('fields not serialisable'),
    });
  });

  it('rejects when the file cannot be opened', async () => {
    await expect(AttemptLog.open('/dev/null/attempt.log', key, clock)).rejects.toThrow();
  });
});
