/**
 * Slack incoming webhook: a message with the title, the facts as fields, the error's
 * first lines in a code block and a button-like link to the log. `text` carries the
 * plain version for notifications and clients without blocks.
 */
import type { Alert } from './alert.ts';
import { alertPlainText, describeAlert } from './alert-text.ts';
import { postNotification } from './http-post.ts';
import type { Notifier, NotifierTarget } from './notifier.ts';

type SlackTarget = Extract<NotifierTarget, { type: 'slack' }>;

export class SlackNotifier implements Notifier {
  readonly type = 'slack' as const;
  readonly name: string;

  constructor(
    private readonly target: SlackTarget,
    private readonly uiUrl: string | null,
  ) {
    this.name = target.name;
  }

  async send(alert: Alert): Promise<void> {
    await postNotification(
      `Slack notifier '${this.name}'`,
      this.target.url,
      JSON.stringify(slackMessage(alert, this.uiUrl)),
      { 'content-type': 'application/json' },
    );
  }

  close(): void {}
}

/** The Slack message (Block Kit) for an alert. */
export function slackMessage(alert: Alert, uiUrl: string | null): Record<string, unknown> {
  const d = describeAlert(alert, uiUrl);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: d.title.slice(0, 150) } },
    {
      type: 'section',
      fields: d.facts
        .slice(0, 10)
        .map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${slackEscape(v)}` })),
    },
  ];
  if (d.errorExcerpt !== null) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `\`\`\`${slackEscape(d.errorExcerpt).replaceAll('```', "'''")}\`\`\``,
      },
    });
  }
  if (d.link !== null) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `<${d.link}|Open the log>` } });
  }
  return { text: `${d.title}\n${alertPlainText(d)}`, blocks };
}

/** Slack's three control characters. */
function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
