import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/operators/line-splitter.ts';

function split(chunks: (string | Buffer)[], maxLineChars?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxLineChars);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('joins lines cut across chunks and ends the last unterminated line', () => {
    expect(split(['a\nb', 'c\r\n', '\nd'])).toEqual(['a', 'bc', '', 'd']);
  });

  it('keeps a UTF-8 character cut between two chunks whole', () => {
    const bytes = Buffer.from('héllo\n');
    expect(split([bytes.subarray(0, 2), bytes.subarray(2)])).toEqual(['héllo']);
  });

  it('cuts a runaway line into pieces of the maximum length', () => {
    expect(split(['abcdefg', 'h\nij'], 3)).toEqual(['abc', 'def', 'gh', 'ij']);
  });
});
