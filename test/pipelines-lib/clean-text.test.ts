/**
 * Cleaning of typed text (`pipelines/lib/clean-text.ts`) on crafted inputs with the
 * cleaned text written out by hand: white space, empty text, shouting, typos.
 */
import { describe, expect, it } from 'vitest';
import { cleanText, isShouting } from '../../pipelines/lib/clean-text.ts';

describe('cleaning typed text', () => {
  it('trims and collapses white space, and turns empty text into null', () => {
    expect(cleanText('  Great   quality,\n exactly as described.\t ')).toEqual({
      text: 'Great quality, exactly as described.',
      shouting: false,
    });
    for (const empty of ['', '   ', ' \t\r\n\u00a0 ', null, undefined]) {
      expect(cleanText(empty)).toEqual({ text: null, shouting: false });
    }
  });

  it('puts shouting in sentence case with the pronoun I, and leaves other text as typed', () => {
    expect(cleanText('I LOVE IT AND USE IT EVERY DAY. BEST PURCHASE I MADE THIS YEAR.')).toEqual({
      text: 'I love it and use it every day. Best purchase I made this year.',
      shouting: true,
    });
    expect(cleanText("WASTE OF MONEY,  DO NOT BUY! I'M ANGRY. I'LL RETURN IT; I'D SAY NO")).toEqual(
      {
        text: "Waste of money, do not buy! I'm angry. I'll return it; I'd say no",
        shouting: true,
      },
    );
    // An i inside a word stays; accented capitals are lower-cased too.
    expect(cleanText('THE IPAD IS FINE, I-PHONE TOO? YES').text).toBe(
      'The ipad is fine, i-phone too? Yes',
    );
    expect(cleanText('ÇA VA TRÈS BIEN').text).toBe('Ça va très bien');
    // Acronyms and a short word in capitals are not shouting; typos are kept.
    expect(cleanText('Great TV, works with HDMI')).toEqual({
      text: 'Great TV, works with HDMI',
      shouting: false,
    });
    expect(cleanText('OK')).toEqual({ text: 'OK', shouting: false });
    expect(cleanText('Terrible qaulity, I want a refnd.').text).toBe(
      'Terrible qaulity, I want a refnd.',
    );
  });

  it('counts a text as shouting from 6 cased letters, 80 % of them capitals', () => {
    expect(isShouting('ABCDEF')).toBe(true);
    expect(isShouting('ABCDE')).toBe(false);
    expect(isShouting('ABCDEFGHi1!')).toBe(true); // 8 of 9 letters
    expect(isShouting('ABCDEFGhi')).toBe(false); // 7 of 9, below 0.8
    expect(isShouting('12345 !!!')).toBe(false);
  });
});
