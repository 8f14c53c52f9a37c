/**
 * Product review texts that look typed by people: positive, negative and mixed
 * sentences matching the rating, some reviews empty, some shouting in upper case, some
 * with typos (two neighbouring letters swapped, or a letter dropped).
 */
import type { Random } from './random.ts';

const POSITIVE = [
  'Great quality, exactly as described.',
  'I love it and use it every day.',
  'Excellent value for the price.',
  'Fast delivery and the packaging was perfect.',
  'Works perfectly, highly recommended.',
  'Beautiful design and very comfortable.',
  'Best purchase I made this year.',
] as const;

const NEGATIVE = [
  'Broke after two weeks, very disappointed.',
  'Terrible quality, I want a refund.',
  'Arrived damaged and customer service never answered.',
  'Much smaller than the pictures suggest.',
  'Poor fit and the colour looks cheap.',
  'Waste of money, do not buy.',
  'Stopped working after the first use.',
] as const;

const MIXED = [
  'Good product but delivery took far too long.',
  'Nice design, although the material feels thin.',
  'Works fine, but it is overpriced.',
  'The colour is lovely, sadly the size runs small.',
  'Okay for the price, nothing special.',
] as const;

/** The kind of text a review carries. */
export const REVIEW_TONES = ['positive', 'negative', 'mixed'] as const;
export type ReviewTone = (typeof REVIEW_TONES)[number];

/** Shares of reviews that are empty, in upper case, or have typos. */
export const EMPTY_REVIEW_RATE = 0.06;
export const UPPER_CASE_REVIEW_RATE = 0.05;
export const TYPO_REVIEW_RATE = 0.1;

/** The tone of a review with `rating` (1–5). */
export function toneOf(rating: number, random: Random): ReviewTone {
  if (rating >= 4) return random.chance(0.15) ? 'mixed' : 'positive';
  if (rating <= 2) return random.chance(0.15) ? 'mixed' : 'negative';
  return 'mixed';
}

/** One to three sentences of `tone`, possibly empty, upper-cased or misspelt. */
export function reviewText(tone: ReviewTone, random: Random): string {
  if (random.chance(EMPTY_REVIEW_RATE)) return '';
  const pool = tone === 'positive' ? POSITIVE : tone === 'negative' ? NEGATIVE : MIXED;
  const count = random.int(1, 3);
  const sentences: string[] = [];
  for (let i = 0; i < count; i++) sentences.push(random.pick(i === 0 ? pool : [...pool, ...MIXED]));
  let text = sentences.join(' ');
  if (random.chance(TYPO_REVIEW_RATE)) text = withTypo(text, random);
  if (random.chance(UPPER_CASE_REVIEW_RATE)) text = text.toUpperCase();
  return text;
}

/** `text` with one typo: two neighbouring letters swapped, or one dropped. */
function withTypo(text: string, random: Random): string {
  const at = random.int(1, Math.max(1, text.length - 3));
  const a = text[at] ?? '';
  const b = text[at + 1] ?? '';
  if (!/[a-z]/i.test(a) || !/[a-z]/i.test(b)) return `${text.slice(0, at)}${text.slice(at + 1)}`;
  return random.chance(0.5)
    ? `${text.slice(0, at)}${b}${a}${text.slice(at + 2)}`
    : `${text.slice(0, at)}${text.slice(at + 1)}`;
}
