/**
 * Run by hand (no schedule) to watch failure handling: a call that fails twice before it
 * succeeds (retries with backoff), a validation that fails without retry, and the
 * trigger rules that decide what runs afterwards.
 */
import { dag, SkipTask, TaskFailure } from 'updraft';

export default dag(
  {
    id: 'flaky_api',
    description: 'Retries, failures without retry, skips and trigger rules, by hand.',
    owner: 'platform',
    tags: ['demo'],
    params: {
      type: 'object',
      properties: {
        failValidation: {
          type: 'boolean',
          default: false,
          description: 'Make the validation fail (no retry).',
        },
      },
    },
  },
  (d) => {
    const call = d.task(
      'call_api',
      { retries: 3, retryDelay: '2s', retryExponentialBackoff: true },
      async (ctx) => {
        if (ctx.tryNumber < 3) throw new Error(`HTTP 503 from the API (try ${ctx.tryNumber})`);
        return { status: 200, items: 42 };
      },
    );
    const validate = d.task('validate', async (ctx) => {
      if (ctx.params.failValidation)
        throw new TaskFailure('payload schema changed: field "items" missing', { retry: false });
      return { ok: true };
    });
    const optional = d.task('optional_enrichment', async () => {
      throw new SkipTask('enrichment disabled today');
    });
    const publish = d.task('publish', { triggerRule: 'none_failed' }, async (ctx) => ({
      published: ctx.upstream.call_api ?? null,
    }));
    const alert = d.shell(
      'alert_on_failure',
      { command: 'echo "validation failed for {{ run_id }}"' },
      { triggerRule: 'one_failed' },
    );
    call.before(validate);
    validate.before(publish);
    validate.before(alert);
    optional.before(publish);
  },
);
