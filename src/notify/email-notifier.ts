/**
 * E-mail over SMTP with nodemailer: plain text and HTML bodies with the same content.
 * One pooled transport per connection; SMTP answers 4xx (try later) and connection
 * errors are retryable, 5xx (mailbox unknown, auth refused) are not.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { escapeHtml } from '../observability/escape-html.ts';
import type { Alert } from './alert.ts';
import { alertPlainText, describeAlert } from './alert-text.ts';
import { type Notifier, type NotifierTarget, NotifyError } from './notifier.ts';

type EmailTarget = Extract<NotifierTarget, { type: 'email' }>;

export class EmailNotifier implements Notifier {
  readonly type = 'email' as const;
  readonly name: string;
  private readonly transport: Transporter;

  constructor(
    private readonly target: EmailTarget,
    private readonly uiUrl: string | null,
  ) {
    this.name = target.name;
    this.transport = nodemailer.createTransport({
      host: target.host,
      port: target.port,
      secure: target.secure,
      ...(target.auth ? { auth: target.auth } : {}),
      pool: true,
      maxConnections: 2,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async send(alert: Alert): Promise<void> {
    const d = describeAlert(alert, this.uiUrl);
    try {
      await this.transport.sendMail({
        from: this.target.from,
        to: this.target.to,
        subject: d.title,
        text: alertPlainText(d),
        html: emailHtml(d),
        headers: { 'X-Updraft-Event': alert.kind },
      });
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      throw new NotifyError(`e-mail notifier '${this.name}': ${(error as Error).message}`, {
        retryable: code === undefined || code < 500,
        cause: error,
      });
    }
  }

  close(): void {
    this.transport.close();
  }
}

function emailHtml(d: ReturnType<typeof describeAlert>): string {
  const rows = d.facts
    .map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('');
  return [
    `<h2>${escapeHtml(d.title)}</h2>`,
    `<table>${rows}</table>`,
    d.errorExcerpt === null ? '' : `<h3>Error</h3><pre>${escapeHtml(d.errorExcerpt)}</pre>`,
    d.link === null ? '' : `<p><a href="${escapeHtml(d.link)}">Open the log</a></p>`,
  ].join('\n');
}
