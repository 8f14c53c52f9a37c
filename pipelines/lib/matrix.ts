/**
 * The two matrix shapes the text library needs, with the few products it uses:
 * - `SparseMatrix`, compressed sparse rows (CSR): a TF-IDF matrix, one row per document,
 *   one column per term, only the non-zero entries stored;
 * - `DenseMatrix`, row-major `Float64Array`: the thin matrices of a truncated SVD.
 *
 * Plain loops over typed arrays, no dependencies (the library is bundled with pipeline
 * files, ADR 2).
 */

/** A matrix in compressed sparse row form. */
export interface SparseMatrix {
  rows: number;
  cols: number;
  /** Row `r` holds entries `rowStart[r]` to `rowStart[r + 1] - 1`; length `rows + 1`. */
  rowStart: Int32Array;
  /** Column of each stored entry (ascending within a row). */
  colIndex: Int32Array;
  /** Value of each stored entry. */
  values: Float64Array;
}

/** A dense matrix, row-major: entry (r, c) is `data[r * cols + c]`. */
export interface DenseMatrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** A `rows` × `cols` matrix of zeros. */
export function zeros(rows: number, cols: number): DenseMatrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** A dense matrix from an array of rows of equal length. */
export function denseFromRows(rows: readonly (readonly number[])[]): DenseMatrix {
  const cols = rows[0]?.length ?? 0;
  const m = zeros(rows.length, cols);
  rows.forEach((row, r) => {
    if (row.length !== cols)
      throw new Error(`row ${r} has ${row.length} values, row 0 has ${cols}: rows must be equal`);
    m.data.set(row, r * cols);
  });
  return m;
}

/** The sparse form of a dense matrix (zeros not stored). */
export function sparseFromDense(m: DenseMatrix): SparseMatrix {
  const rowStart = new Int32Array(m.rows + 1);
  const cols: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      const v = m.data[r * m.cols + c] as number;
      if (v !== 0) {
        cols.push(c);
        values.push(v);
      }
    }
    rowStart[r + 1] = values.length;
  }
  return {
    rows: m.rows,
    cols: m.cols,
    rowStart,
    colIndex: Int32Array.from(cols),
    values: Float64Array.from(values),
  };
}

/** The dense form of a sparse matrix. */
export function denseFromSparse(a: SparseMatrix): DenseMatrix {
  const m = zeros(a.rows, a.cols);
  for (let r = 0; r < a.rows; r++) {
    for (let i = a.rowStart[r] as number; i < (a.rowStart[r + 1] as number); i++) {
      m.data[r * a.cols + (a.colIndex[i] as number)] = a.values[i] as number;
    }
  }
  return m;
}

/** A · B, with A sparse (n × d) and B dense (d × l): a dense n × l matrix. */
export function sparseTimesDense(a: SparseMatrix, b: DenseMatrix): DenseMatrix {
  return sparseProduct(a, b, false);
}

/** Aᵀ · B, with A sparse (n × d) and B dense (n × l): a dense d × l matrix. */
export function sparseTransposeTimesDense(a: SparseMatrix, b: DenseMatrix): DenseMatrix {
  return sparseProduct(a, b, true);
}

/** A · B, or Aᵀ · B when `transposed`, walking A's stored entries once. */
function sparseProduct(a: SparseMatrix, b: DenseMatrix, transposed: boolean): DenseMatrix {
  const [outRows, inner] = transposed ? [a.cols, a.rows] : [a.rows, a.cols];
  if (b.rows !== inner) {
    const left = transposed ? `the transpose of ${a.rows}×${a.cols}` : `${a.rows}×${a.cols}`;
    throw new Error(`cannot multiply ${left} by ${b.rows}×${b.cols}`);
  }
  const l = b.cols;
  const out = zeros(outRows, l);
  for (let r = 0; r < a.rows; r++) {
    for (let i = a.rowStart[r] as number; i < (a.rowStart[r + 1] as number); i++) {
      const v = a.values[i] as number;
      const c = a.colIndex[i] as number;
      // A(r, c) adds v · B(c, ·) to row r, or (transposed) v · B(r, ·) to row c.
      const o = (transposed ? c : r) * l;
      const s = (transposed ? r : c) * l;
      for (let j = 0; j < l; j++) {
        out.data[o + j] = (out.data[o + j] as number) + v * (b.data[s + j] as number);
      }
    }
  }
  return out;
}

/** A · B for dense matrices. */
export function multiply(a: DenseMatrix, b: DenseMatrix): DenseMatrix {
  if (a.cols !== b.rows)
    throw new Error(`cannot multiply ${a.rows}×${a.cols} by ${b.rows}×${b.cols}`);
  const out = zeros(a.rows, b.cols);
  for (let r = 0; r < a.rows; r++) {
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[r * a.cols + k] as number;
      if (v === 0) continue;
      const s = k * b.cols;
      const o = r * b.cols;
      for (let j = 0; j < b.cols; j++)
        out.data[o + j] = (out.data[o + j] as number) + v * (b.data[s + j] as number);
    }
  }
  return out;
}

/** Aᵀ for a dense matrix. */
export function transpose(a: DenseMatrix): DenseMatrix {
  const out = zeros(a.cols, a.rows);
  for (let r = 0; r < a.rows; r++) {
    for (let c = 0; c < a.cols; c++) out.data[c * a.rows + r] = a.data[r * a.cols + c] as number;
  }
  return out;
}

/**
 * An orthonormal basis of the column space of `a` (n × l, n ≥ l): the Q of a thin QR
 * decomposition, by modified Gram–Schmidt applied twice (one pass loses orthogonality
 * when columns are nearly dependent; two passes keep it to rounding). A column that is
 * dependent on the ones before it (nothing left after the projections) becomes zero.
 */
export function orthonormalColumns(a: DenseMatrix): DenseMatrix {
  const { rows: n, cols: l } = a;
  const q = { rows: n, cols: l, data: Float64Array.from(a.data) };
  const column = (j: number): Float64Array => {
    const v = new Float64Array(n);
    for (let r = 0; r < n; r++) v[r] = q.data[r * l + j] as number;
    return v;
  };
  const norms = new Float64Array(l);
  for (let j = 0; j < l; j++) {
    const v = column(j);
    let original = 0;
    for (let r = 0; r < n; r++) original += (v[r] as number) ** 2;
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        if (norms[p] === 0) continue;
        let dot = 0;
        for (let r = 0; r < n; r++) dot += (q.data[r * l + p] as number) * (v[r] as number);
        for (let r = 0; r < n; r++) v[r] = (v[r] as number) - dot * (q.data[r * l + p] as number);
      }
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += (v[r] as number) ** 2;
    norm = Math.sqrt(norm);
    // Relative to the column's own size: what is left is rounding noise, not a direction.
    const dependent = norm <= 1e-12 * Math.sqrt(original) || norm === 0;
    norms[j] = dependent ? 0 : norm;
    for (let r = 0; r < n; r++) q.data[r * l + j] = dependent ? 0 : (v[r] as number) / norm;
  }
  return q;
}
