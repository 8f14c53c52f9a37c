/**
 * Dense document vectors by latent semantic analysis (LSA): the truncated SVD of a
 * TF-IDF matrix, A ≈ U·S·Vᵀ, gives each document the row of U·S (its coordinates on the
 * k strongest term co-occurrence directions), then scaled to unit length so that cosine
 * similarity is a dot product. Not a neural embedding: it knows only which terms occur
 * together in this corpus.
 */
import type { SparseMatrix } from './matrix.ts';
import { type TruncatedSvdOptions, truncatedSvd } from './truncated-svd.ts';

/** Unit document vectors and what the SVD kept. */
export interface LsaVectors {
  /** One vector of length k per row of the input; all zeros for an empty row. */
  vectors: Float64Array[];
  /** The k singular values, descending. */
  singularValues: number[];
  /**
   * Share of the matrix's squared Frobenius norm the k components keep, Σ sᵢ² / ‖A‖²_F
   * (1 means nothing is lost).
   */
  keptShare: number;
}

/** LSA vectors of the rows of `matrix` with `k` dimensions (see the module doc). */
export function lsaVectors(
  matrix: SparseMatrix,
  k: number,
  options: TruncatedSvdOptions = {},
): LsaVectors {
  const { u, s } = truncatedSvd(matrix, k, options);
  const vectors: Float64Array[] = [];
  for (let r = 0; r < matrix.rows; r++) {
    const vector = new Float64Array(k);
    let squares = 0;
    for (let c = 0; c < k; c++) {
      const value = (u.data[r * k + c] as number) * (s[c] as number);
      vector[c] = value;
      squares += value * value;
    }
    const norm = Math.sqrt(squares);
    if (norm > 0) for (let c = 0; c < k; c++) vector[c] = (vector[c] as number) / norm;
    vectors.push(vector);
  }
  let total = 0;
  for (const v of matrix.values) total += v * v;
  let kept = 0;
  for (const v of s) kept += v * v;
  return { vectors, singularValues: [...s], keptShare: total === 0 ? 1 : kept / total };
}
