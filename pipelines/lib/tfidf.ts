/**
 * TF-IDF weights of tokenised documents, as a sparse matrix with one l2-normalised row
 * per document and one column per term of the vocabulary (terms sorted, so the same
 * documents give the same matrix).
 *
 *     tf(t, d)  = count of t in d            (or 1 + ln(count) with `sublinearTf`)
 *     idf(t)    = ln((1 + n) / (1 + df(t))) + 1
 *     w(t, d)   = tf(t, d) · idf(t), then each row divided by its Euclidean norm
 *
 * n is the number of documents and df(t) the number of documents containing t. The
 * smoothed idf (as scikit-learn's `TfidfVectorizer` default) never divides by zero and
 * keeps a term that is in every document at weight 1 rather than 0. A document with no
 * term of the vocabulary gets an empty row (all zeros), not a division by zero.
 */
import type { SparseMatrix } from './matrix.ts';

/** Options of `tfidf`. */
export interface TfidfOptions {
  /** Terms in fewer documents than this are left out of the vocabulary. Default 1. */
  minDocumentFrequency?: number;
  /** Terms in more than this fraction of the documents are left out. Default 1 (none). */
  maxDocumentShare?: number;
  /** Use 1 + ln(count) instead of the raw count. Default false. */
  sublinearTf?: boolean;
}

/** A fitted TF-IDF: the vocabulary, each term's idf, and the documents' weights. */
export interface Tfidf {
  /** The terms, sorted; term `vocabulary[c]` is column c. */
  vocabulary: string[];
  /** idf of each column. */
  idf: Float64Array;
  /** One row per document, l2-normalised (or empty). */
  matrix: SparseMatrix;
}

/** Fits TF-IDF on `documents` (each a list of tokens, repeats counted). */
export function tfidf(
  documents: readonly (readonly string[])[],
  options: TfidfOptions = {},
): Tfidf {
  const minDf = options.minDocumentFrequency ?? 1;
  const maxShare = options.maxDocumentShare ?? 1;
  if (!Number.isInteger(minDf) || minDf < 1)
    throw new Error(`minDocumentFrequency must be a whole number ≥ 1, got ${minDf}`);
  if (!(maxShare > 0 && maxShare <= 1))
    throw new Error(`maxDocumentShare must be in (0, 1], got ${maxShare}`);
  const n = documents.length;
  const counts = documents.map((tokens) => {
    const count = new Map<string, number>();
    for (const token of tokens) count.set(token, (count.get(token) ?? 0) + 1);
    return count;
  });
  const df = new Map<string, number>();
  for (const count of counts)
    for (const term of count.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const vocabulary = [...df.entries()]
    .filter(([, f]) => f >= minDf && f <= maxShare * n)
    .map(([term]) => term)
    .sort();
  const column = new Map(vocabulary.map((term, c) => [term, c]));
  const idf = Float64Array.from(
    vocabulary,
    (term) => Math.log((1 + n) / (1 + (df.get(term) ?? 0))) + 1,
  );

  const rowStart = new Int32Array(n + 1);
  const colIndex: number[] = [];
  const values: number[] = [];
  counts.forEach((count, r) => {
    const entries: [number, number][] = [];
    for (const [term, c] of count) {
      const col = column.get(term);
      if (col === undefined) continue;
      const tf = options.sublinearTf ? 1 + Math.log(c) : c;
      entries.push([col, tf * (idf[col] as number)]);
    }
    entries.sort((x, y) => x[0] - y[0]);
    const norm = Math.sqrt(entries.reduce((sum, [, w]) => sum + w * w, 0));
    for (const [col, w] of entries) {
      colIndex.push(col);
      values.push(w / norm);
    }
    rowStart[r + 1] = colIndex.length;
  });
  return {
    vocabulary,
    idf,
    matrix: {
      rows: n,
      cols: vocabulary.length,
      rowStart,
      colIndex: Int32Array.from(colIndex),
      values: Float64Array.from(values),
    },
  };
}
