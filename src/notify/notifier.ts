/**
 * Notifiers deliver alerts to one target, named by a connection whose URL says how:
 *
 * | URL | delivers |
 * |---|---|
 * | `slack+https://hooks.slack.com/services/T…/B…/X…` | a Slack incoming-webhook message |
 * | `smtp://user:pass@host:587?from=updraft@x.com&to=a@x.com,b@x.com` | an e-mail (STARTTLS when offered) |
 * | `smtps://user:pass@host:465?from=…&to=…` | an e-mail over TLS |
 * | `webhook+https://:SECRET@host/path` | a JSON POST signed with HMAC-SHA256 of the secret |
 *
 * (`slack+http` and `webhook+http` are accepted for receivers on a private network.)
 * Query values are URL-encoded: write `+` in an address as `%2B`.
 * Errors name the connection and the part that is wrong, never the URL (it holds secrets).
 */
import { UpdraftError } from '../core/errors.ts';
import type { Alert } from './alert.ts';

/** Delivers alerts to one target. */
export interface Notifier {
  /** `slack`, `email` or `webhook` (metrics label). */
  readonly type: NotifierType;
  /** The connection name. */
  readonly name: string;
  /** Sends one alert; rejects with `NotifyError` (retryable or not) on failure. */
  send(alert: Alert): Promise<void>;
  /** Releases connections (SMTP pools). */
  close(): void;
}

export const NOTIFIER_TYPES = ['slack', 'email', 'webhook'] as const;
export type NotifierType = (typeof NOTIFIER_TYPES)[number];

/** A delivery that failed; `retryable` says whether trying again may help. */
export class NotifyError extends UpdraftError {
  readonly retryable: boolean;
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super('notify_failed', message, { cause: options.cause });
    this.retryable = options.retryable;
  }
}

/** Where a notifier delivers, parsed from its connection URL. */
export type NotifierTarget =
  | { type: 'slack'; name: string; url: string }
  | {
      type: 'email';
      name: string;
      host: string;
      port: number;
      /** TLS from the start (`smtps`); otherwise STARTTLS when the server offers it. */
      secure: boolean;
      auth: { user: string; pass: string } | null;
      from: string;
      to: string[];
    }
  | { type: 'webhook'; name: string; url: string; secret: string };

/** Parses a notifier connection URL; throws `UpdraftError('notifier_invalid')` naming what is wrong. */
export function parseNotifierUrl(name: string, text: string): NotifierTarget {
  const bad = (what: string) =>
    new UpdraftError('notifier_invalid', `notifier connection '${name}': ${what}`);
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw bad('the value is not a URL (encode special characters with %XX)');
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const decode = (s: string) => decodeURIComponent(s);
  switch (scheme) {
    case 'slack+https':
    case 'slack+http':
      return { type: 'slack', name, url: plainUrl(url, scheme.slice('slack+'.length)) };
    case 'webhook+https':
    case 'webhook+http': {
      const secret = decode(url.password);
      if (secret === '') {
        throw bad(
          'a webhook needs an HMAC secret as the URL password: webhook+https://:SECRET@host/path',
        );
      }
      return {
        type: 'webhook',
        name,
        url: plainUrl(url, scheme.slice('webhook+'.length)),
        secret,
      };
    }
    case 'smtp':
    case 'smtps': {
      const from = url.searchParams.get('from') ?? '';
      const to = (url.searchParams.get('to') ?? '')
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== '');
      if (!isAddress(from))
        throw bad('add the sender as ?from=address (e.g. ?from=updraft@example.com)');
      if (to.length === 0) throw bad('add the recipients as &to=a@example.com,b@example.com');
      const wrong = to.find((a) => !isAddress(a));
      if (wrong !== undefined) throw bad(`'${wrong}' in 'to' is not an e-mail address`);
      if (url.hostname === '') throw bad('the SMTP host is missing');
      const secure = scheme === 'smtps';
      return {
        type: 'email',
        name,
        host: decode(url.hostname),
        port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
        secure,
        auth:
          url.username === '' ? null : { user: decode(url.username), pass: decode(url.password) },
        from,
        to,
      };
    }
    default:
      throw bad(
        `scheme '${scheme}://' is not a notifier (use slack+https://, smtp://, smtps:// or webhook+https://)`,
      );
  }
}

/** The URL with the `slack+`/`webhook+` prefix and any user info removed. */
function plainUrl(url: URL, protocol: string): string {
  const copy = new URL(url.toString().replace(/^[a-z+]+:/i, `${protocol}:`));
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

function isAddress(text: string): boolean {
  return /^[^\s@<>]+@[^\s@<>]+$/.test(text);
}
