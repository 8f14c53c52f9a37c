/**
 * Encryption at rest for stored connections: AES-256-GCM with a key from the
 * environment.
 *
 * - `UPDRAFT_SECRET_KEY`: the current key; any text of at least 16 characters (a random
 *   one: `openssl rand -base64 32`). The AES key is its SHA-256.
 * - `UPDRAFT_SECRET_KEY_PREVIOUS`: older keys, comma-separated, still accepted for
 *   decryption. Rotation: set the new key, move the old one here, run
 *   `updraft connections rotate-key` (re-encrypts everything with the current key), then
 *   drop the old key.
 *
 * A sealed value is `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url); the key id (the
 * first 12 hex digits of a hash of the key) says which key opens it. Messages never
 * contain a plaintext or a key.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { UpdraftError } from '../core/errors.ts';

export const SECRET_KEY_VAR = 'UPDRAFT_SECRET_KEY';
export const PREVIOUS_KEYS_VAR = 'UPDRAFT_SECRET_KEY_PREVIOUS';

interface Key {
  id: string;
  bytes: Buffer;
}

/** Keys read from the environment: the current one (for sealing) and older ones. */
export class SecretBox {
  private constructor(
    private readonly current: Key | null,
    private readonly all: Map<string, Key>,
  ) {}

  /** The keys in `env` (default `process.env`); throws when a key is too short. */
  static fromEnv(env: Record<string, string | undefined> = process.env): SecretBox {
    const currentText = env[SECRET_KEY_VAR]?.trim() || undefined;
    const previous = (env[PREVIOUS_KEYS_VAR] ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '');
    const current = currentText === undefined ? null : toKey(currentText, SECRET_KEY_VAR);
    const all = new Map<string, Key>();
    for (const key of [
      ...(current ? [current] : []),
      ...previous.map((k) => toKey(k, PREVIOUS_KEYS_VAR)),
    ]) {
      all.set(key.id, key);
    }
    return new SecretBox(current, all);
  }

  /** Id of the current key, or null when none is set. */
  get currentKeyId(): string | null {
    return this.current?.id ?? null;
  }

  /** Encrypts `plaintext` with the current key. */
  seal(plaintext: string): { sealed: string; keyId: string } {
    if (this.current === null) {
      throw new UpdraftError(
        'secret_key_missing',
        `storing a connection needs an encryption key: set ${SECRET_KEY_VAR} (e.g. to the output of 'openssl rand -base64 32') in the environment of every Updraft process`,
      );
    }
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.bytes, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'));
    return { sealed: ['v1', this.current.id, ...parts].join('.'), keyId: this.current.id };
  }

  /** Decrypts a sealed value; `what` names it in errors (e.g. `connection 'warehouse'`). */
  open(sealed: string, what: string): string {
    const [format, keyId, iv, tag, ciphertext] = sealed.split('.');
    if (format !== 'v1' || keyId === undefined || !iv || !tag || ciphertext === undefined) {
      throw new UpdraftError('secret_invalid', `${what}: the stored secret is malformed`);
    }
    const key = this.all.get(keyId);
    if (key === undefined) {
      throw new UpdraftError(
        'secret_key_unknown',
        `${what} was encrypted with key ${keyId}, which is neither ${SECRET_KEY_VAR} nor in ${PREVIOUS_KEYS_VAR}: set that key`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new UpdraftError(
        'secret_invalid',
        `${what}: the stored secret does not decrypt with key ${keyId} (tampered with, or the key changed)`,
      );
    }
  }
}

function toKey(text: string, variable: string): Key {
  if (text.length < 16) {
    throw new UpdraftError(
      'secret_key_invalid',
      `${variable} holds a key shorter than 16 characters: use a random one (openssl rand -base64 32)`,
    );
  }
  const bytes = createHash('sha256').update(text, 'utf8').digest();
  const id = createHash('sha256')
    .update('updraft-key-id:')
    .update(bytes)
    .digest('hex')
    .slice(0, 12);
  return { id, bytes };
}
