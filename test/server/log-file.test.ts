import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLogRange } from '../../src/server/log-file.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function logFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('readLogRange', () => {
  const lines = Array.from({ length: 10 }, (_, i) => `{"msg":"line ${i}"}`);
  const text = `${lines.join('\n')}\n`;

  it('pages forwards at line ends until the end', async () => {
    const file = logFile('a.log', text);
    const seen: string[] = [];
    let offset = 0;
    for (let guard = 0; guard < 20; guard++) {
      const r = await readLogRange(file, { offset, maxBytes: 45 });
      seen.push(...r.lines);
      if (r.nextOffset === offset) break;
      offset = r.nextOffset;
    }
    expect(seen).toEqual(lines);
    expect(offset).toBe(Buffer.byteLength(text));
  });

  it('reads the tail without a partial first line, then earlier parts back to the start', async () => {
    const file = logFile('b.log', text);
    const tail = await readLogRange(file, { before: null, maxBytes: 50 });
    expect(tail.lines).toEqual(lines.slice(-2));
    expect(tail.nextOffset).toBe(Buffer.byteLength(text));
    const seen = [...tail.lines];
    let before = tail.offset;
    while (before > 0) {
      const r = await readLogRange(file, { before, maxBytes: 50 });
      expect(r.nextOffset).toBe(before);
      seen.unshift(...r.lines);
      before = r.offset;
    }
    expect(seen).toEqual(lines);
  });

  it('hands out a line longer than the window cut (forwards), and nothing for a missing file', async () => {
    const file = logFile('c.log', `${'x'.repeat(100)}\nshort\n`);
    const first = await readLogRange(file, { offset: 0, maxBytes: 40 });
    expect(first.lines).toEqual(['x'.repeat(40)]);
    expect(first.nextOffset).toBe(40);
    expect(
      await readLogRange(path.join(dir, 'missing.log'), { before: null, maxBytes: 10 }),
    ).toEqual({
      lines: [],
      offset: 0,
      nextOffset: 0,
      size: 0,
    });
  });

  it('keeps a half-written last line for the next read', async () => {
    const file = logFile('d.log', '{"a":1}\n{"b":');
    const r = await readLogRange(file, { offset: 0, maxBytes: 1000 });
    expect(r.lines).toEqual(['{"a":1}']);
    expect(r.nextOffset).toBe(8);
  });
});
