/**
 * Spots misspelt option names. TypeScript rejects them in object literals, but not in
 * plain JavaScript pipelines or options built elsewhere.
 */
import { didYouMean } from '../core/closest-match.ts';

/** Calls `problem` for every key of `value` that is not a key of `known`, with a hint. */
export function reportUnknownFields(
  value: object | undefined,
  known: Readonly<Record<string, true>>,
  problem: (key: string, hint: string) => void,
): void {
  if (value === undefined || value === null || typeof value !== 'object') return;
  const names = Object.keys(known);
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(known, key)) continue;
    problem(key, didYouMean(key, names, `known options: ${names.join(', ')}`) ?? '');
  }
}
