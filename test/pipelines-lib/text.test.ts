/**
 * pipelines/lib/text.ts: normalisation (NFKD, marks removed, lower case, apostrophes
 * joined, everything else that is not a letter or digit a single space) and tokenising
 * (stop words, short tokens), on hand-written inputs with hand-written answers.
 */
import { describe, expect, it } from 'vitest';
import { normaliseText, STOP_WORDS, tokenise } from '../../pipelines/lib/text.ts';

describe('normaliseText', () => {
  it('folds case, accents, compatibility forms, apostrophes, punctuation and white space', () => {
    expect(normaliseText('  Café DÉJÀ-VU!!  ')).toBe('cafe deja vu');
    expect(normaliseText('Don’t stop — it’s GREAT.')).toBe('dont stop its great');
    // Ligature ﬁ, full-width letters and digits, a non-breaking space, a tab and a newline.
    expect(normaliseText('ﬁne ＡＢＣ１２\u00a0x\ty\nz')).toBe('fine abc12 x y z');
    expect(normaliseText('T-shirt (100% cotton), £12.50 & 2-year warranty')).toBe(
      't shirt 100 cotton 12 50 2 year warranty',
    );
    expect(normaliseText('Ærøskøbing naïve Straße')).toBe('ærøskøbing naive straße');
  });

  it('gives an empty string for nothing, blanks and punctuation only', () => {
    expect(normaliseText(null)).toBe('');
    expect(normaliseText(undefined)).toBe('');
    expect(normaliseText('')).toBe('');
    expect(normaliseText(' \t\n ')).toBe('');
    expect(normaliseText('?!… — ***')).toBe('');
  });

  it('is idempotent', () => {
    const once = normaliseText('A Ｖery NICE t-shirt, isn’t it?');
    expect(normaliseText(once)).toBe(once);
  });
});

describe('tokenise', () => {
  it('drops stop words and one-letter tokens, keeps order and repeats', () => {
    expect(tokenise('The lamp is NOT the best lamp in the shop: a 5-star lamp!')).toEqual([
      'lamp',
      'not',
      'best',
      'lamp',
      'shop',
      'star',
      'lamp',
    ]);
  });

  it('keeps negations out of the stop words', () => {
    for (const word of ['not', 'no', 'nor', 'never']) expect(STOP_WORDS.has(word)).toBe(false);
    for (const word of ['the', 'and', 'is', 'of']) expect(STOP_WORDS.has(word)).toBe(true);
  });

  it('takes other stop words and a minimum length', () => {
    expect(tokenise('The lamp is on', { stopWords: new Set() })).toEqual([
      'the',
      'lamp',
      'is',
      'on',
    ]);
    expect(tokenise('a big red lamp', { stopWords: new Set(['lamp']), minLength: 1 })).toEqual([
      'a',
      'big',
      'red',
    ]);
    expect(tokenise('big red lamp', { minLength: 4 })).toEqual(['lamp']);
    expect(tokenise(null)).toEqual([]);
    expect(tokenise('the of and')).toEqual([]);
  });
});
