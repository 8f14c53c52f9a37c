/**
 * Truncated singular value decomposition of a sparse matrix by the randomized range
 * finder of Halko, Martinsson and Tropp ("Finding structure with randomness", SIAM
 * Review 53(2), 2011; algorithms 4.4 and 5.1):
 *
 * 1. Ω: a d × l matrix of seeded standard normal numbers, l = k + oversamples;
 * 2. Q: an orthonormal basis of the range of A·Ω, refined by `powerIterations` rounds of
 *    Q ← orth(A · orth(Aᵀ · Q)) (re-orthonormalised each half step, so small singular
 *    values are not lost to rounding);
 * 3. B = Qᵀ·A (l × d), small and dense; its exact SVD by one-sided Jacobi rotations
 *    (Hestenes) on Bᵀ: B = W·Σ·Zᵀ;
 * 4. A ≈ (Q·W)·Σ·Zᵀ, cut to the k largest singular values.
 *
 * With l ≥ rank(A) the result is exact up to rounding; otherwise the error is close to
 * the best rank-k error (Eckart–Young) and shrinks with each power iteration. Signs are
 * fixed (the entry of largest magnitude of each left singular vector is positive), so
 * the same input and seed give the same output, bit for bit.
 */
import {
  type DenseMatrix,
  orthonormalColumns,
  type SparseMatrix,
  sparseTimesDense,
  sparseTransposeTimesDense,
  zeros,
} from './matrix.ts';
import { seededNormal } from './seeded-normal.ts';

/** Options of `truncatedSvd`. */
export interface TruncatedSvdOptions {
  /** Seed of the random test matrix. Default 0. */
  seed?: number;
  /** Extra random directions beyond k (Halko et al. suggest 5 to 10). Default 10. */
  oversamples?: number;
  /** Power iterations (sharpen a slowly decaying spectrum, as text has). Default 4. */
  powerIterations?: number;
}

/** A ≈ U·diag(S)·Vᵀ with k components, largest singular value first. */
export interface TruncatedSvd {
  /** Left singular vectors, n × k (orthonormal columns). */
  u: DenseMatrix;
  /** Singular values, descending, length k. */
  s: Float64Array;
  /** Right singular vectors as rows, k × d (orthonormal rows). */
  vt: DenseMatrix;
}

/** The k-component truncated SVD of `a` (see the module doc). */
export function truncatedSvd(
  a: SparseMatrix,
  k: number,
  options: TruncatedSvdOptions = {},
): TruncatedSvd {
  const limit = Math.min(a.rows, a.cols);
  if (!Number.isInteger(k) || k < 1 || k > limit) {
    throw new Error(
      `k must be an integer from 1 to min(rows, columns) = ${limit} for a ${a.rows}×${a.cols} matrix, got ${k}`,
    );
  }
  const oversamples = options.oversamples ?? 10;
  const powerIterations = options.powerIterations ?? 4;
  for (const [name, value] of [
    ['oversamples', oversamples],
    ['powerIterations', powerIterations],
  ] as const) {
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`${name} must be a whole number ≥ 0, got ${value}`);
  }
  const l = Math.min(k + oversamples, limit);
  const normal = seededNormal(options.seed ?? 0);
  const omega = zeros(a.cols, l);
  for (let i = 0; i < omega.data.length; i++) omega.data[i] = normal();

  let q = orthonormalColumns(sparseTimesDense(a, omega));
  for (let i = 0; i < powerIterations; i++) {
    const z = orthonormalColumns(sparseTransposeTimesDense(a, q));
    q = orthonormalColumns(sparseTimesDense(a, z));
  }
  // Bᵀ = Aᵀ·Q (d × l), column by column for the rotations.
  const bt = sparseTransposeTimesDense(a, q);
  const { columns, rotation } = hestenesJacobi(columnsOf(bt), l);

  const sigma = columns.map(norm);
  const order = sigma
    .map((_, j) => j)
    .sort((x, y) => (sigma[y] as number) - (sigma[x] as number) || x - y);
  const u = zeros(a.rows, k);
  const vt = zeros(k, a.cols);
  const s = new Float64Array(k);
  order.slice(0, k).forEach((j, c) => {
    const value = sigma[j] as number;
    s[c] = value;
    // Left vector: Q·w_j (w_j = column j of the rotation).
    const w = rotation[j] as Float64Array;
    for (let r = 0; r < a.rows; r++) {
      let sum = 0;
      for (let i = 0; i < l; i++) sum += (q.data[r * l + i] as number) * (w[i] as number);
      u.data[r * k + c] = sum;
    }
    // Right vector: column j of Bᵀ after the rotations, divided by its norm.
    const z = columns[j] as Float64Array;
    for (let i = 0; i < a.cols; i++)
      vt.data[c * a.cols + i] = value === 0 ? 0 : (z[i] as number) / value;
    fixSign(u, vt, c);
  });
  return { u, s, vt };
}

/** Columns of a dense matrix as separate arrays. */
function columnsOf(m: DenseMatrix): Float64Array[] {
  return Array.from({ length: m.cols }, (_, j) => {
    const column = new Float64Array(m.rows);
    for (let r = 0; r < m.rows; r++) column[r] = m.data[r * m.cols + j] as number;
    return column;
  });
}

function dot(x: Float64Array, y: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += (x[i] as number) * (y[i] as number);
  return sum;
}

function norm(x: Float64Array): number {
  return Math.sqrt(dot(x, x));
}

/**
 * One-sided Jacobi (Hestenes): rotates pairs of columns of M (m × l) until all are
 * orthogonal, accumulating the rotations in an l × l orthogonal matrix W, so that
 * M·W has orthogonal columns (their norms are the singular values of M). Returns the
 * rotated columns and the columns of W.
 */
function hestenesJacobi(
  columns: Float64Array[],
  l: number,
): { columns: Float64Array[]; rotation: Float64Array[] } {
  const rotation = Array.from({ length: l }, (_, j) => {
    const e = new Float64Array(l);
    e[j] = 1;
    return e;
  });
  const rotate = (x: Float64Array, y: Float64Array, c: number, s: number): void => {
    for (let i = 0; i < x.length; i++) {
      const xi = x[i] as number;
      const yi = y[i] as number;
      x[i] = c * xi - s * yi;
      y[i] = s * xi + c * yi;
    }
  };
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < l - 1; p++) {
      for (let r = p + 1; r < l; r++) {
        const x = columns[p] as Float64Array;
        const y = columns[r] as Float64Array;
        const alpha = dot(x, x);
        const beta = dot(y, y);
        const gamma = dot(x, y);
        if (gamma === 0 || Math.abs(gamma) <= 1e-14 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(x, y, c, s);
        rotate(rotation[p] as Float64Array, rotation[r] as Float64Array, c, s);
      }
    }
    if (!rotated) break;
  }
  return { columns, rotation };
}

/** Flips component `c` so that the largest-magnitude entry of its left vector is positive. */
function fixSign(u: DenseMatrix, vt: DenseMatrix, c: number): void {
  let largest = 0;
  for (let r = 0; r < u.rows; r++) {
    const v = u.data[r * u.cols + c] as number;
    if (Math.abs(v) > Math.abs(largest)) largest = v;
  }
  if (largest >= 0) return;
  for (let r = 0; r < u.rows; r++) u.data[r * u.cols + c] = -(u.data[r * u.cols + c] as number);
  for (let i = 0; i < vt.cols; i++)
    vt.data[c * vt.cols + i] = -(vt.data[c * vt.cols + i] as number);
}
