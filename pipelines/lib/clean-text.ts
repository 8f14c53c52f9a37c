/**
 * Tidying free text typed by people (product reviews) for reading and scoring, unlike
 * `normaliseText` (`text.ts`), which reduces text to bare lower-case words for counting.
 * Punctuation, case of normal text, accents and typos are kept.
 *
 * 1. White space (spaces, tabs, line breaks, no-break spaces) is trimmed at both ends and
 *    every inner run becomes one space.
 * 2. A text with nothing left is `null`: no text, not an empty one.
 * 3. A text in **upper case** ("shouting") is put in sentence case: it is shouting when it
 *    has at least {@link SHOUTING_MIN_LETTERS} cased letters and at least
 *    {@link SHOUTING_UPPER_SHARE} of them are capitals. It is lower-cased, then the first
 *    letter of the text and of each sentence (after `.`, `!` or `?` and a space) and the
 *    pronoun `I` (`I`, `I'm`, `I've`, `I'd`, `I'll`) are capitalised. Names and acronyms
 *    in a shouted text stay lower case: the information is not in the text.
 */

/** Cased letters a text needs before it can count as shouting (`OK` is not). */
export const SHOUTING_MIN_LETTERS = 6;

/** Share of capitals among the cased letters from which a text counts as shouting. */
export const SHOUTING_UPPER_SHARE = 0.8;

/** A text as cleaned, and what was done to it. */
export interface CleanedText {
  /** The cleaned text, or `null` when nothing but white space was there. */
  text: string | null;
  /** Whether the text was shouting and was put in sentence case. */
  shouting: boolean;
}

/** Whether `text` is in upper case by the rule above. */
export function isShouting(text: string): boolean {
  let upper = 0;
  let lower = 0;
  for (const char of text) {
    if (char.toLowerCase() !== char) upper++;
    else if (char.toUpperCase() !== char) lower++;
  }
  const cased = upper + lower;
  return cased >= SHOUTING_MIN_LETTERS && upper >= SHOUTING_UPPER_SHARE * cased;
}

/** `text` in lower case with sentence starts and the pronoun `I` capitalised. */
export function sentenceCase(text: string): string {
  return text
    .toLowerCase()
    .replace(
      /(^|[.!?]\s+)(\p{Ll})/gu,
      (_, before: string, letter: string) => before + letter.toUpperCase(),
    )
    .replace(/(?<![\p{L}\p{N}'-])i(?=(?:'(?:m|ve|d|ll))?(?![\p{L}\p{N}'-]))/gu, 'I');
}

/** `raw` cleaned as the module doc says; `null` stays `null`. */
export function cleanText(raw: string | null | undefined): CleanedText {
  if (raw === null || raw === undefined) return { text: null, shouting: false };
  const collapsed = raw.replace(/\s+/gu, ' ').trim();
  if (collapsed === '') return { text: null, shouting: false };
  if (!isShouting(collapsed)) return { text: collapsed, shouting: false };
  return { text: sentenceCase(collapsed), shouting: true };
}
