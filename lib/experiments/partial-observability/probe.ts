/**
 * A linear probe: how much of a hidden quantity a model's state holds, read by ridge regression
 * from the state to the quantity, fitted on some episodes and scored on others by the
 * coefficient of determination,
 *
 *   R² = 1 - Σ (y - ŷ)² / Σ (y - ȳ)²,
 *
 * 1 when the state determines the quantity linearly, 0 when it says no more than its mean. The
 * probe is linear on purpose: it asks whether the model has made the quantity explicit, not
 * whether some network could dig it out.
 */

/** Ridge regression of `targets` [n] on `features` [n * width] (a bias added), ridge `lambda`. */
export function fitRidge(
  features: Float64Array | Float32Array,
  targets: ArrayLike<number>,
  width: number,
  lambda: number,
): Float64Array {
  const n = targets.length;
  const size = width + 1;
  // Normal equations (XᵀX + λI) w = Xᵀy with the bias column last, left unpenalised.
  const matrix = new Float64Array(size * size);
  const vector = new Float64Array(size);
  const row = new Float64Array(size);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < width; j++) row[j] = features[i * width + j];
    row[width] = 1;
    for (let a = 0; a < size; a++) {
      vector[a] += row[a] * targets[i];
      for (let b = 0; b < size; b++) matrix[a * size + b] += row[a] * row[b];
    }
  }
  for (let j = 0; j < width; j++) matrix[j * size + j] += lambda;
  return solve(matrix, vector, size);
}

/** ŷ for every row of `features` under weights from `fitRidge`. */
export function predictRidge(
  weights: Float64Array,
  features: Float64Array | Float32Array,
  width: number,
): Float64Array {
  const n = features.length / width;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = weights[width];
    for (let j = 0; j < width; j++) sum += weights[j] * features[i * width + j];
    out[i] = sum;
  }
  return out;
}

/** R² of predictions against targets; NaN when the targets do not vary. */
export function rSquared(predicted: ArrayLike<number>, targets: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < targets.length; i++) mean += targets[i] / targets.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < targets.length; i++) {
    residual += (targets[i] - predicted[i]) ** 2;
    total += (targets[i] - mean) ** 2;
  }
  return total > 0 ? 1 - residual / total : Number.NaN;
}

/** Solves a symmetric positive definite system by Gaussian elimination with partial pivoting. */
function solve(matrix: Float64Array, vector: Float64Array, size: number): Float64Array {
  const a = matrix.slice();
  const b = vector.slice();
  for (let column = 0; column < size; column++) {
    let pivot = column;
    for (let r = column + 1; r < size; r++) {
      if (Math.abs(a[r * size + column]) > Math.abs(a[pivot * size + column])) pivot = r;
    }
    if (pivot !== column) {
      for (let c = 0; c < size; c++) {
        [a[column * size + c], a[pivot * size + c]] = [a[pivot * size + c], a[column * size + c]];
      }
      [b[column], b[pivot]] = [b[pivot], b[column]];
    }
    const diagonal = a[column * size + column];
    if (Math.abs(diagonal) < 1e-12) continue; // a constant feature: its weight stays 0
    for (let r = column + 1; r < size; r++) {
      const factor = a[r * size + column] / diagonal;
      if (factor === 0) continue;
      for (let c = column; c < size; c++) a[r * size + c] -= factor * a[column * size + c];
      b[r] -= factor * b[column];
    }
  }
  const x = new Float64Array(size);
  for (let r = size - 1; r >= 0; r--) {
    const diagonal = a[r * size + r];
    if (Math.abs(diagonal) < 1e-12) continue;
    let sum = b[r];
    for (let c = r + 1; c < size; c++) sum -= a[r * size + c] * x[c];
    x[r] = sum / diagonal;
  }
  return x;
}

/** Fits on the first rows and scores R² on the rest: held-out R² of one quantity. */
export function heldOutRSquared(
  trainFeatures: Float64Array | Float32Array,
  trainTargets: ArrayLike<number>,
  testFeatures: Float64Array | Float32Array,
  testTargets: ArrayLike<number>,
  width: number,
  lambda = 1e-3,
): number {
  const weights = fitRidge(trainFeatures, trainTargets, width, lambda);
  return rSquared(predictRidge(weights, testFeatures, width), testTargets);
}
