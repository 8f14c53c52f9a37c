/**
 * Finds the notifier for a target name. The URL comes from the same places as any
 * connection (see `src/data/connection-store.ts`): a stored (encrypted) connection,
 * then the connections file, then `UPDRAFT_CONN_<NAME>`. Looked up at each send, so a
 * changed connection takes effect without a restart; notifiers are kept per URL, so an
 * SMTP pool is reused.
 */
import { NotFoundError } from '../core/errors.ts';
import {
  connectionsFilePath,
  readConnectionsFile,
  storedConnectionUrls,
} from '../data/connection-store.ts';
import { SecretBox } from '../data/secret-box.ts';
import { registerSecret } from '../observability/logger.ts';
import { connectionEnvVar } from '../operators/connections.ts';
import type { Db } from '../store/store.ts';
import { EmailNotifier } from './email-notifier.ts';
import { type Notifier, parseNotifierUrl } from './notifier.ts';
import { SlackNotifier } from './slack-notifier.ts';
import { WebhookNotifier } from './webhook-notifier.ts';

export interface NotifierDirectoryOptions {
  /** The store holding encrypted connections. */
  db: Db;
  /** Home folder (for `<home>/connections.yaml`). */
  home: string;
  /** Environment (default `process.env`): connection variables, the connections file. */
  env?: Record<string, string | undefined>;
  /** Keys of stored connections (default from the environment, read when first needed). */
  secrets?: SecretBox;
  /** Web UI base URL for links in messages; null: no links. */
  uiUrl: string | null;
}

export class NotifierDirectory {
  private readonly byUrl = new Map<string, Notifier>();
  private secrets: SecretBox | undefined;

  constructor(private readonly options: NotifierDirectoryOptions) {
    this.secrets = options.secrets;
  }

  /** The notifier for `name`; throws `NotFoundError` / `UpdraftError` saying what to fix. */
  async get(name: string): Promise<Notifier> {
    const url = await this.urlOf(name);
    const key = `${name}\u0000${url}`;
    let notifier = this.byUrl.get(key);
    if (!notifier) {
      maskNotifierSecrets(url);
      notifier = createNotifier(name, url, this.options.uiUrl);
      this.byUrl.set(key, notifier);
    }
    return notifier;
  }

  /** Closes every notifier (SMTP pools). */
  close(): void {
    for (const n of this.byUrl.values()) n.close();
    this.byUrl.clear();
  }

  private async urlOf(name: string): Promise<string> {
    const env = this.options.env ?? process.env;
    const stored = await storedConnectionUrls(this.options.db, this.box(env), [name]);
    const fromStore = stored[name];
    if (fromStore !== undefined) return fromStore;
    const file = connectionsFilePath(this.options.home, env);
    const fromFile = readConnectionsFile(file).get(name);
    if (fromFile !== undefined) return fromFile.url;
    const variable = connectionEnvVar(name);
    const fromEnv = env[variable];
    if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.trim();
    throw new NotFoundError(
      `notifier connection '${name}' is not defined: store it as a connection, add it to ${file}, ` +
        `or set ${variable} (e.g. slack+https://hooks.slack.com/services/…)`,
    );
  }

  private box(env: Record<string, string | undefined>): SecretBox {
    this.secrets ??= SecretBox.fromEnv(env);
    return this.secrets;
  }
}

/** Registers what is secret in a notifier URL (password, Slack token path) for log masking. */
function maskNotifierSecrets(url: string): void {
  try {
    const u = new URL(url);
    registerSecret(decodeURIComponent(u.password));
    if (u.protocol.startsWith('slack+')) registerSecret(u.pathname.replace(/^\/services\//, ''));
  } catch {
    // Not a URL: parseNotifierUrl reports it.
  }
}

/** A notifier for a connection URL (see `notifier.ts` for the URL forms). */
export function createNotifier(name: string, url: string, uiUrl: string | null): Notifier {
  const target = parseNotifierUrl(name, url);
  switch (target.type) {
    case 'slack':
      return new SlackNotifier(target, uiUrl);
    case 'email':
      return new EmailNotifier(target, uiUrl);
    case 'webhook':
      return new WebhookNotifier(target, uiUrl);
  }
}
