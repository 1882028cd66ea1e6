/**
 * Eigendecomposition of a real symmetric matrix, for CMA-ES's covariance matrix (Hansen 2016,
 * "The CMA Evolution Strategy: A Tutorial", where C = B D^2 B^T).
 *
 * Two classical steps: Householder reduction to a tridiagonal matrix, accumulating the
 * orthogonal transformation, then the implicit QL algorithm with Wilkinson-style shifts on the
 * tridiagonal matrix, rotating the accumulated basis along (Wilkinson & Reinsch, "Handbook for
 * Automatic Computation II: Linear Algebra", 1971, procedures tred2 and tql2). About 9 n^3 flops:
 * a second or a few for the 1,088-dimensional controllers of the World Models paper.
 *
 * The basis is stored transposed (row j holds the j-th eigenvector), so every inner loop walks
 * memory contiguously.
 */

export interface SymmetricEigen {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /** Row-major n x n; row j is the unit eigenvector of `values[j]`. */
  vectors: Float64Array;
}

/**
 * Eigenvalues and eigenvectors of the symmetric n x n matrix `matrix` (row-major; only its
 * lower triangle is read). Results go into `out` when given (reused buffers), else new arrays.
 */
export function symmetricEigen(
  matrix: Float64Array,
  n: number,
  out?: SymmetricEigen,
): SymmetricEigen {
  if (matrix.length !== n * n) {
    throw new RangeError(`symmetricEigen: a ${n}x${n} matrix needs ${n * n} numbers`);
  }
  const values = out?.values ?? new Float64Array(n);
  const vectors = out?.vectors ?? new Float64Array(n * n);
  // W[r][c] stands for the textbook's V[c][r]; the lower triangle of A goes in as its upper one.
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) vectors[r * n + c] = r >= c ? matrix[r * n + c] : matrix[c * n + r];
  }
  const offDiagonal = new Float64Array(n);
  tridiagonalize(vectors, n, values, offDiagonal);
  diagonalize(vectors, n, values, offDiagonal);
  sortAscending(vectors, n, values);
  return { values, vectors };
}

/** Householder reduction of W (symmetric) to tridiagonal form: diagonal d, sub-diagonal e. */
function tridiagonalize(w: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = w[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + i - 1];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      // The Householder vector, scaled against overflow.
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Apply the similarity transformation to the remaining columns.
      for (let j = 0; j < i; j++) {
        const rowJ = j * n;
        f = d[j];
        w[i * n + j] = f;
        g = e[j] + w[rowJ + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += w[rowJ + k] * d[k];
          e[k] += w[rowJ + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        const rowJ = j * n;
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) w[rowJ + k] -= f * e[k] + g * d[k];
        d[j] = w[rowJ + i - 1];
        w[rowJ + i] = 0;
      }
    }
    d[i] = h;
  }

  // Accumulate the transformations into the basis.
  for (let i = 0; i < n - 1; i++) {
    w[i * n + n - 1] = w[i * n + i];
    w[i * n + i] = 1;
    const h = d[i + 1];
    const rowNext = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[rowNext + k] / h;
      for (let j = 0; j <= i; j++) {
        const rowJ = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[rowNext + k] * w[rowJ + k];
        for (let k = 0; k <= i; k++) w[rowJ + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) w[rowNext + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1];
    w[j * n + n - 1] = 0;
  }
  w[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL iterations on the tridiagonal (d, e), rotating the basis rows of W along. */
function diagonalize(w: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let shift = 0;
  let largest = 0;
  const epsilon = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // Find a negligible sub-diagonal element to split the matrix at.
    largest = Math.max(largest, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= epsilon * largest) break;
      m++;
    }
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > 60) throw new Error("symmetricEigen: QL iteration did not converge");
        // The shift from the leading 2x2 block.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        shift += h;

        p = d[m];
        let c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
        const el1 = e[l + 1];
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // Rotate basis vectors i and i + 1 (rows of W).
          const rowI = i * n, rowNext = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const next = w[rowNext + k];
            const current = w[rowI + k];
            w[rowNext + k] = s * current + c * next;
            w[rowI + k] = c * current - s * next;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > epsilon * largest);
    }
    d[l] += shift;
    e[l] = 0;
  }
}

/** Selection sort of eigenpairs by eigenvalue (n swaps of rows at most). */
function sortAscending(w: Float64Array, n: number, d: Float64Array): void {
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    for (let j = i + 1; j < n; j++) if (d[j] < d[k]) k = j;
    if (k === i) continue;
    const value = d[k];
    d[k] = d[i];
    d[i] = value;
    const rowI = i * n, rowK = k * n;
    for (let j = 0; j < n; j++) {
      const t = w[rowI + j];
      w[rowI + j] = w[rowK + j];
      w[rowK + j] = t;
    }
  }
}
