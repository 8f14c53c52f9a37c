/**
 * Text normalisation and tokenisation for the example pipelines (`articles_embeddings`,
 * `reviews_nlp`). Plain functions, no dependencies, so a pipeline file imports them by
 * relative path (`./lib/text.ts`) and the loader bundles them with it (ADR 2).
 *
 * `normaliseText` is the one definition of "normalised text" in TypeScript:
 * 1. Unicode compatibility decomposition (NFKD): ligatures, full-width letters and
 *    other compatibility forms become their plain letters, accented letters become a
 *    base letter followed by combining marks;
 * 2. combining marks removed (`é` → `e`);
 * 3. lower case;
 * 4. apostrophes removed inside words (`don't` → `dont`, `shop’s` → `shops`);
 * 5. every run of characters that are neither letters nor digits (punctuation, symbols,
 *    white space) becomes one space; leading and trailing spaces are removed.
 *
 * `articles_content` does the same in DuckDB SQL (`strip_accents`, `lower`,
 * `regexp_replace`); its test checks that both agree on the shop's descriptions.
 */

/**
 * English stop words: articles, pronouns, auxiliaries, prepositions and conjunctions
 * that carry no topic. Negations (`not`, `no`, `nor`) are kept out of the list on
 * purpose: sentiment needs them. Written as normalised text (no apostrophes).
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all am an and any are as at be because been before ' +
    'being below between both but by can could did do does doing down during each few for ' +
    'from further had has have having he her here hers herself him himself his how i if in ' +
    'into is it its itself just me more most my myself of off on once only or other ought our ' +
    'ours ourselves out over own same she should so some such than that thats the their ' +
    'theirs them themselves then there these they this those through to too under until up ' +
    'very was we were what when where which while who whom why will with would you your ' +
    'yours yourself yourselves im ive id youre youve theyre weve its also'
  ).split(' '),
);

/** Options of `tokenise`. */
export interface TokeniseOptions {
  /** Words to drop (normalised). Default `STOP_WORDS`; an empty set keeps every word. */
  stopWords?: ReadonlySet<string>;
  /** Tokens shorter than this many characters are dropped. Default 2. */
  minLength?: number;
}

/** `text` normalised as the module doc describes; `null` and `undefined` give `''`. */
export function normaliseText(text: string | null | undefined): string {
  if (text === null || text === undefined) return '';
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * The words of `text`: normalised, split on spaces, without stop words and without
 * tokens shorter than `minLength`, in their order in the text (repeats kept).
 */
export function tokenise(text: string | null | undefined, options: TokeniseOptions = {}): string[] {
  const stopWords = options.stopWords ?? STOP_WORDS;
  const minLength = options.minLength ?? 2;
  const normalised = normaliseText(text);
  if (normalised === '') return [];
  return normalised.split(' ').filter((word) => word.length >= minLength && !stopWords.has(word));
}
