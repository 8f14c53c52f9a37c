/**
 * Generic webhook: a JSON POST of the alert, signed so the receiver can check it came
 * from Updraft and was not replayed:
 *
 *   X-Updraft-Timestamp: 1767225600          (seconds since epoch)
 *   X-Updraft-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>
 *   X-Updraft-Event:     task_failed
 *
 * Receivers should recompute the HMAC over the raw body, compare in constant time and
 * refuse timestamps older than a few minutes (`verifyWebhookSignature` does all three).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Alert } from './alert.ts';
import { describeAlert } from './alert-text.ts';
import { postNotification } from './http-post.ts';
import type { Notifier, NotifierTarget } from './notifier.ts';

type WebhookTarget = Extract<NotifierTarget, { type: 'webhook' }>;

export const SIGNATURE_HEADER = 'x-updraft-signature';
export const TIMESTAMP_HEADER = 'x-updraft-timestamp';
export const EVENT_HEADER = 'x-updraft-event';

export class WebhookNotifier implements Notifier {
  readonly type = 'webhook' as const;
  readonly name: string;

  constructor(
    private readonly target: WebhookTarget,
    private readonly uiUrl: string | null,
    private readonly now: () => number = Date.now,
  ) {
    this.name = target.name;
  }

  async send(alert: Alert): Promise<void> {
    const d = describeAlert(alert, this.uiUrl);
    const body = JSON.stringify({
      ...alert,
      title: d.title,
      errorExcerpt: d.errorExcerpt,
      link: d.link,
    });
    const timestamp = String(Math.floor(this.now() / 1000));
    await postNotification(`webhook notifier '${this.name}'`, this.target.url, body, {
      'content-type': 'application/json',
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signWebhook(this.target.secret, timestamp, body),
      [EVENT_HEADER]: alert.kind,
    });
  }

  close(): void {}
}

/** `sha256=<hex>` of `<timestamp>.<body>`. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Checks a received webhook: the signature matches (constant-time) and the timestamp is
 * within `toleranceMs` of `now`.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  now = Date.now(),
  toleranceMs = 5 * 60_000,
): boolean {
  if (headers.timestamp === undefined || headers.signature === undefined) return false;
  const at = Number(headers.timestamp) * 1000;
  if (!Number.isFinite(at) || Math.abs(now - at) > toleranceMs) return false;
  const expected = Buffer.from(signWebhook(secret, headers.timestamp, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
