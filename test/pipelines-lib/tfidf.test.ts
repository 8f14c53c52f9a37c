/**
 * pipelines/lib/tfidf.ts on a corpus small enough to compute by hand:
 *
 *     d0 = apple banana apple     d1 = banana cherry     d2 = cherry
 *
 * n = 3; df: apple 1, banana 2, cherry 2; idf = ln((1 + n) / (1 + df)) + 1:
 * apple 1 + ln 2 = 1.693147, banana = cherry = 1 + ln(4/3) = 1.287682.
 * d0: apple 2 · 1.693147 = 3.386294, banana 1.287682; norm 3.622860;
 *     weights 0.934702 and 0.355432.
 * d1: banana and cherry equal, so 1/√2 = 0.707107 each.  d2: cherry 1.
 */
import { describe, expect, it } from 'vitest';
import { denseFromSparse } from '../../pipelines/lib/matrix.ts';
import { tfidf } from '../../pipelines/lib/tfidf.ts';

const CORPUS = [['apple', 'banana', 'apple'], ['banana', 'cherry'], ['cherry']];

describe('tfidf', () => {
  it('weights a tiny corpus as computed by hand', () => {
    const fit = tfidf(CORPUS);
    expect(fit.vocabulary).toEqual(['apple', 'banana', 'cherry']);
    expect([...fit.idf].map((v) => v.toFixed(6))).toEqual(['1.693147', '1.287682', '1.287682']);
    const dense = denseFromSparse(fit.matrix);
    expect([...dense.data].map((v) => v.toFixed(6))).toEqual([
      '0.934702',
      '0.355432',
      '0.000000',
      '0.000000',
      '0.707107',
      '0.707107',
      '0.000000',
      '0.000000',
      '1.000000',
    ]);
    // Only non-zero entries are stored, in column order per row.
    expect([...fit.matrix.rowStart]).toEqual([0, 2, 4, 5]);
    expect([...fit.matrix.colIndex]).toEqual([0, 1, 1, 2, 2]);
  });

  it('uses 1 + ln(count) with sublinearTf', () => {
    const fit = tfidf(CORPUS, { sublinearTf: true });
    // d0: apple (1 + ln 2) · 1.693147 = 2.866748, banana 1.287682; norm 3.142669.
    const dense = denseFromSparse(fit.matrix);
    expect((dense.data[0] as number).toFixed(6)).toBe('0.912202');
    expect((dense.data[1] as number).toFixed(6)).toBe('0.409742');
  });

  it('drops rare and common terms, and leaves a document without terms empty', () => {
    const fit = tfidf([...CORPUS, ['durian'], []], {
      minDocumentFrequency: 2,
      maxDocumentShare: 0.5,
    });
    // n = 5: banana and cherry are in 2 documents (≤ 2.5), apple and durian in 1.
    expect(fit.vocabulary).toEqual(['banana', 'cherry']);
    expect(fit.matrix.rows).toBe(5);
    expect([...fit.matrix.rowStart]).toEqual([0, 1, 3, 4, 4, 4]);
    expect([...fit.matrix.values].map((v) => v.toFixed(6))).toEqual([
      '1.000000',
      '0.707107',
      '0.707107',
      '1.000000',
    ]);
  });

  it('rejects options out of range', () => {
    expect(() => tfidf(CORPUS, { minDocumentFrequency: 0 })).toThrow(
      'minDocumentFrequency must be a whole number ≥ 1, got 0',
    );
    expect(() => tfidf(CORPUS, { maxDocumentShare: 1.5 })).toThrow(
      'maxDocumentShare must be in (0, 1], got 1.5',
    );
  });
});
