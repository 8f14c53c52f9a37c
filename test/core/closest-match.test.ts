import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from '../../src/core/closest-match.ts';

describe('closestMatch', () => {
  it('measures edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('suggests the closest candidate within reach', () => {
    expect(closestMatch('extarct', ['load', 'extract', 'exact_copy'])).toBe('extract');
    expect(closestMatch('all_sucess', ['all_success', 'all_failed'])).toBe('all_success');
    expect(closestMatch('Extract', ['extract'])).toBe('extract');
    expect(closestMatch('clean', ['transform.clean', 'load'])).toBe('transform.clean');
  });

  it('suggests nothing when nothing is close', () => {
    expect(closestMatch('zzz', ['extract', 'load'])).toBeUndefined();
    expect(closestMatch('a', [])).toBeUndefined();
  });
});
