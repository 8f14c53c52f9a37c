/**
 * A tiny pipeline that runs every minute, so a fresh `npm start` shows runs at once:
 * a TypeScript task measures the machine, a shell task prints it with run-time
 * templates.
 */
import os from 'node:os';
import { dag } from 'updraft';

export default dag(
  {
    id: 'heartbeat',
    description: 'Every minute: sample the load of this machine and print it.',
    owner: 'platform',
    tags: ['demo'],
    schedule: '* * * * *',
    startDate: '2026-01-01',
    catchup: false,
    maxActiveRuns: 1,
  },
  (d) => {
    const sample = d.task('sample', async (ctx) => {
      const [load1] = os.loadavg();
      ctx.log.info('sampled load', { load1 });
      return {
        load1: Math.round((load1 ?? 0) * 100) / 100,
        freeMb: Math.round(os.freemem() / 2 ** 20),
      };
    });
    const print = d.shell('print', {
      command:
        'echo "{{ ts }}: load {{ upstream.sample.load1 }}, {{ upstream.sample.freeMb }} MB free"',
      returnOutput: 'last_line',
    });
    sample.before(print);
  },
);
