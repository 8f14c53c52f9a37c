import fs from 'node:fs';

/** Version of this Updraft package (from `package.json`, two folders up from src/ or dist/). */
export function updraftVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(fs.readFileSync(url, 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
