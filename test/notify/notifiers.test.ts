/**
 * Notifiers against real receivers: Slack and webhook messages over HTTP to a local
 * server, e-mail over SMTP to an `smtp-server` started here; retries with backoff,
 * grouping of identical alerts, and bad connection URLs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import type { Alert } from '../../src/notify/alert.ts';
import { AlertDispatcher, type DeliveryOutcome } from '../../src/notify/alert-dispatcher.ts';
import { type Notifier, parseNotifierUrl } from '../../src/notify/notifier.ts';
import { createNotifier } from '../../src/notify/notifier-directory.ts';
import { verifyWebhookSignature } from '../../src/notify/webhook-notifier.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import {
  type HttpReceiver,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
} from './receivers.ts';

const FAILED: Alert = {
  kind: 'task_failed',
  dagId: 'hourly_etl',
  runId: 'scheduled__2026-01-01T10:00:00.000Z',
  taskId: 'load',
  mapIndex: -1,
  tryNumber: 3,
  maxTries: 3,
  state: 'failed',
  durationMs: 12_500,
  error:
    'relation "orders" does not exist\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9 never shown',
  reason: null,
  at: Date.parse('2026-01-01T11:02:03Z'),
  deadline: null,
  repeats: 0,
};
const UI = 'https://updraft.example.com';
const LOG_LINK = `${UI}/#/dags/hourly_etl/runs/scheduled__2026-01-01T10%3A00%3A00.000Z/tasks/load?try=3`;

let http: HttpReceiver | undefined;
let smtp: SmtpReceiver | undefined;
const created: Notifier[] = [];
afterEach(async () => {
  for (const n of created.splice(0)) n.close();
  await http?.close();
  await smtp?.close();
  http = undefined;
  smtp = undefined;
});

function dispatcherFor(
  urls: Record<string, string>,
  outcomes: DeliveryOutcome[] = [],
  groupWindowMs = 60_000,
) {
  return new AlertDispatcher({
    notifiers: {
      get: async (name) => {
        const notifier = createNotifier(name, urls[name] ?? '', UI);
        created.push(notifier);
        return notifier;
      },
    },
    clock: systemClock,
    log: silentLogger(),
    retryBaseMs: 20,
    maxTries: 4,
    groupWindowMs,
    onOutcome: (o) => outcomes.push(o),
  });
}

describe('notifiers', () => {
  it('posts a Slack message with DAG, run, task, attempt, duration, error lines and log link', async () => {
    http = await startHttpReceiver();
    const dispatcher = dispatcherFor({ team: `slack+${http.url}/services/T1/B2/XYZ` });
    dispatcher.dispatch(FAILED, ['team']);
    await dispatcher.whenIdle();
    const [request] = await http.waitFor(1);
    expect(request?.path).toBe('/services/T1/B2/XYZ');
    const message = JSON.parse(request?.body ?? '{}') as { text: string; blocks: unknown[] };
    expect(message.text).toContain(
      '[updraft] Task failed: hourly_etl.load (run scheduled__2026-01-01T10:00:00.000Z)',
    );
    for (const fact of [
      'DAG: hourly_etl',
      'Task: load',
      'Attempt: 3 of 3',
      'Duration: 12.5s',
      'relation "orders" does not exist',
      'line 8',
      `Log: ${LOG_LINK}`,
    ]) {
      expect(message.text).toContain(fact);
    }
    expect(message.text).not.toContain('never shown');
    expect(JSON.stringify(message.blocks)).toContain(`<${LOG_LINK}|Open the log>`);
    await dispatcher.stop();
  });

  it('signs webhook posts with HMAC-SHA256 over timestamp and body', async () => {
    http = await startHttpReceiver();
    const dispatcher = dispatcherFor({
      hook: `webhook+${http.url.replace('//', '//:s3cr%2Ft@')}/alerts`,
    });
    dispatcher.dispatch(FAILED, ['hook']);
    await dispatcher.whenIdle();
    const [request] = await http.waitFor(1);
    const headers = {
      timestamp: request?.headers['x-updraft-timestamp'] as string,
      signature: request?.headers['x-updraft-signature'] as string,
    };
    expect(request?.headers['x-updraft-event']).toBe('task_failed');
    expect(request?.headers.authorization).toBeUndefined();
    expect(verifyWebhookSignature('s3cr/t', headers, request?.body ?? '')).toBe(true);
    expect(verifyWebhookSignature('other', headers, request?.body ?? '')).toBe(false);
    expect(verifyWebhookSignature('s3cr/t', headers, `${request?.body} `)).toBe(false);
    const body = JSON.parse(request?.body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({
      kind: 'task_failed',
      dagId: 'hourly_etl',
      taskId: 'load',
      tryNumber: 3,
      link: LOG_LINK,
    });
    await dispatcher.stop();
  });

  it('sends e-mail over SMTP with authentication, text and HTML', async () => {
    smtp = await startSmtpReceiver({ user: 'alerts', pass: 'p@ss word' });
    const url = `smtp://alerts:${encodeURIComponent('p@ss word')}@127.0.0.1:${smtp.port}?from=updraft@example.com&to=oncall@example.com,lead@example.com`;
    const outcomes: DeliveryOutcome[] = [];
    const dispatcher = dispatcherFor({ mail: url }, outcomes);
    dispatcher.dispatch(FAILED, ['mail']);
    await dispatcher.whenIdle();
    const [mail] = await smtp.waitFor(1);
    expect(mail?.user).toBe('alerts');
    expect(mail?.from).toBe('updraft@example.com');
    expect(mail?.to).toEqual(['oncall@example.com', 'lead@example.com']);
    expect(mail?.text).toContain('Subject: [updraft] Task failed: hourly_etl.load');
    expect(mail?.text).toContain('relation "orders" does not exist');
    expect(mail?.text).toContain('Attempt: 3 of 3');
    expect(mail?.text).toContain('<a href="https://updraft.example.com/#/dags/hourly_etl/runs/');
    expect(outcomes.map((o) => [o.notifierType, o.outcome])).toEqual([['email', 'sent']]);
    await dispatcher.stop();
  });

  it('gives up at once on refused SMTP credentials (not retryable)', async () => {
    smtp = await startSmtpReceiver({ user: 'alerts', pass: 'right' });
    const outcomes: DeliveryOutcome[] = [];
    const dispatcher = dispatcherFor(
      { mail: `smtp://alerts:wrong@127.0.0.1:${smtp.port}?from=u@example.com&to=o@example.com` },
      outcomes,
    );
    dispatcher.dispatch(FAILED, ['mail']);
    await dispatcher.whenIdle();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ outcome: 'failed', tries: 1 });
    expect(smtp.mails).toHaveLength(0);
    await dispatcher.stop();
  });

  it('retries 5xx answers with backoff and stops on a 4xx', async () => {
    http = await startHttpReceiver();
    http.statuses.push(503, 500);
    const outcomes: DeliveryOutcome[] = [];
    const dispatcher = dispatcherFor(
      { team: `slack+${http.url}/a`, gone: `slack+${http.url}/b` },
      outcomes,
    );
    dispatcher.dispatch(FAILED, ['team']);
    await dispatcher.whenIdle();
    expect(http.requests.map((r) => r.path)).toEqual(['/a', '/a', '/a']);
    expect(outcomes).toEqual([
      expect.objectContaining({ target: 'team', outcome: 'sent', tries: 3 }),
    ]);

    http.statuses.push(404);
    dispatcher.dispatch({ ...FAILED, taskId: 'other' }, ['gone']);
    await dispatcher.whenIdle();
    expect(http.requests.map((r) => r.path)).toEqual(['/a', '/a', '/a', '/b']);
    expect(outcomes[1]).toMatchObject({ target: 'gone', outcome: 'failed', tries: 1 });
    expect(outcomes[1]?.error).toContain('answered 404');
    await dispatcher.stop();
  });

  it('retries an unreachable receiver up to maxTries, then reports the failure', async () => {
    const outcomes: DeliveryOutcome[] = [];
    const dispatcher = dispatcherFor({ team: 'slack+http://127.0.0.1:9/x' }, outcomes);
    dispatcher.dispatch(FAILED, ['team']);
    await dispatcher.whenIdle();
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'failed', tries: 4 })]);
    expect(outcomes[0]?.error).toContain('could not reach the receiver');
    await dispatcher.stop();
  });

  it('groups identical alerts within the window and sends one with the count', async () => {
    http = await startHttpReceiver();
    const outcomes: DeliveryOutcome[] = [];
    const dispatcher = dispatcherFor({ team: `slack+${http.url}/a` }, outcomes, 300);
    for (let i = 0; i < 5; i++) dispatcher.dispatch({ ...FAILED, runId: `r${i}` }, ['team']);
    dispatcher.dispatch({ ...FAILED, error: 'a different error' }, ['team']);
    await dispatcher.whenIdle();
    expect(http.requests).toHaveLength(2);
    await http.waitFor(3, 5000);
    const summary = JSON.parse(http.requests[2]?.body ?? '{}') as { text: string };
    expect(summary.text).toContain('(+4 more like it)');
    expect(summary.text).toContain('Run: r4');
    expect(outcomes.filter((o) => o.outcome === 'grouped')).toHaveLength(4);
    await dispatcher.stop();
  });

  it('refuses bad notifier URLs, naming the connection and never echoing the URL', () => {
    const cases: [string, string][] = [
      ['not a url', 'is not a URL'],
      ['ftp://host/x', "scheme 'ftp://' is not a notifier"],
      ['webhook+https://host/x', 'needs an HMAC secret'],
      ['smtp://u:topsecret@host:25?to=a@example.com', '?from=address'],
      ['smtp://host:25?from=a@example.com', '&to='],
      ['smtp://host:25?from=a@example.com&to=nobody', "'nobody' in 'to' is not an e-mail address"],
    ];
    for (const [url, message] of cases) {
      expect(() => parseNotifierUrl('oncall', url)).toThrow(message);
      try {
        parseNotifierUrl('oncall', url);
      } catch (error) {
        expect((error as Error).message).toContain("notifier connection 'oncall'");
        expect((error as Error).message).not.toContain('topsecret');
      }
    }
  });
});
