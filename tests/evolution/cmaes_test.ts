import assert from "node:assert/strict";
import { CmaEs, type CmaEsOptions } from "../../lib/evolution/cmaes.ts";
import { symmetricEigen } from "../../lib/evolution/eigen.ts";
import { Rng } from "../../lib/rng.ts";

const sphere = (x: Float64Array) => x.reduce((sum, v) => sum + v * v, 0);

function rosenbrock(x: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < x.length - 1; i++) sum += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
  return sum;
}

function rastrigin(x: Float64Array): number {
  return x.reduce((sum, v) => sum + v * v - 10 * Math.cos(2 * Math.PI * v), 10 * x.length);
}

/** Runs until the best fitness is below `target`; returns the evaluations spent and the ES. */
function minimise(
  f: (x: Float64Array) => number,
  options: CmaEsOptions,
  target: number,
  maxEvaluations: number,
) {
  const es = new CmaEs(options);
  let evaluations = 0;
  while (evaluations < maxEvaluations) {
    const candidates = es.ask();
    es.tell(candidates, candidates.map(f));
    evaluations += candidates.length;
    if (es.best!.fitness < target) break;
  }
  return { es, evaluations };
}

Deno.test("CmaEs default parameters follow Hansen's tutorial", () => {
  const es = new CmaEs({ dimension: 10, initialSigma: 1, rng: new Rng(0) });
  assert.equal(es.populationSize, 4 + Math.floor(3 * Math.log(10)));
  assert.equal(es.parentCount, 5);
  let positive = 0, negative = 0;
  for (let i = 0; i < es.populationSize; i++) {
    if (i > 0) assert.ok(es.weights[i] < es.weights[i - 1], "weights fall with rank");
    if (es.weights[i] > 0) positive += es.weights[i];
    else negative += es.weights[i];
  }
  assert.ok(Math.abs(positive - 1) < 1e-12, "positive weights sum to one");
  // mu_eff for lambda = 10 (weights ln(5.5) - ln i, i = 1..5).
  const raw = [1, 2, 3, 4, 5].map((i) => Math.log(5.5) - Math.log(i));
  const muEff = raw.reduce((a, b) => a + b) ** 2 / raw.reduce((a, b) => a + b * b, 0);
  assert.ok(Math.abs(es.effectiveParents - muEff) < 1e-12);
  const { c1, cMu, cSigma, cC } = es.learningRates;
  assert.ok(Math.abs(c1 - 2 / (11.3 ** 2 + muEff)) < 1e-15);
  assert.ok(Math.abs(cMu - (2 * (muEff - 2 + 1 / muEff)) / (144 + muEff)) < 1e-15);
  assert.ok(Math.abs(cSigma - (muEff + 2) / (15 + muEff)) < 1e-15);
  assert.ok(Math.abs(cC - (4 + muEff / 10) / (14 + (2 * muEff) / 10)) < 1e-15);
  // Negative weights are capped so the covariance stays positive definite (tutorial eq. 53).
  assert.ok(-negative <= (1 - c1 - cMu) / (10 * cMu) + 1e-12);
});

Deno.test("CmaEs on problems with known optima", async (t) => {
  await t.step("sphere, dimension 10: 1e-10 in about the published 1,700 evaluations", () => {
    const { es, evaluations } = minimise(
      sphere,
      { dimension: 10, initialSigma: 0.5, initialMean: new Array(10).fill(3), rng: new Rng(1) },
      1e-10,
      5000,
    );
    assert.ok(es.best!.fitness < 1e-10);
    assert.ok(evaluations < 2500, `${evaluations} evaluations`);
    for (const v of es.mean) assert.ok(Math.abs(v) < 1e-4);
  });

  await t.step("Rosenbrock, dimension 10: the optimum (1, ..., 1)", () => {
    const { es, evaluations } = minimise(
      rosenbrock,
      { dimension: 10, initialSigma: 0.5, rng: new Rng(2) },
      1e-10,
      20000,
    );
    assert.ok(es.best!.fitness < 1e-10, `f = ${es.best!.fitness} after ${evaluations}`);
    for (const v of es.best!.candidate) assert.ok(Math.abs(v - 1) < 1e-4);
  });

  await t.step("a rotated ellipsoid (condition 1e6) needs the full covariance", () => {
    const n = 10;
    const rng = new Rng(3);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    }
    const rotation = symmetricEigen(a, n).vectors;
    const ellipsoid = (x: Float64Array) => {
      let sum = 0;
      for (let j = 0; j < n; j++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += rotation[j * n + i] * x[i];
        sum += 1e6 ** (j / (n - 1)) * d * d;
      }
      return sum;
    };
    const { es, evaluations } = minimise(
      ellipsoid,
      { dimension: n, initialSigma: 0.5, initialMean: new Array(n).fill(1), rng: new Rng(4) },
      1e-10,
      20000,
    );
    assert.ok(es.best!.fitness < 1e-10, `f = ${es.best!.fitness}`);
    assert.ok(evaluations < 8000, `${evaluations} evaluations`);
    // The learned covariance matches the inverse Hessian's shape: axis ratio near sqrt(1e6).
    assert.ok(es.axisRatio > 300 && es.axisRatio < 3000, `axis ratio ${es.axisRatio}`);
  });

  await t.step("Rastrigin, dimension 5, population 400: the global optimum 0", () => {
    for (const seed of [0, 1, 2]) {
      const rng = new Rng(seed);
      const { es } = minimise(
        rastrigin,
        {
          dimension: 5,
          initialSigma: 2,
          populationSize: 400,
          initialMean: Array.from({ length: 5 }, () => rng.uniform(1, 5)),
          rng,
        },
        1e-10,
        200_000,
      );
      assert.ok(es.best!.fitness < 1e-10, `seed ${seed}: stuck at ${es.best!.fitness}`);
    }
  });
});

Deno.test("CmaEs interface", async (t) => {
  await t.step("maximising -f is the same search as minimising f", () => {
    const low = new CmaEs({ dimension: 4, initialSigma: 1, rng: new Rng(7) });
    const high = new CmaEs({ dimension: 4, initialSigma: 1, rng: new Rng(7), maximize: true });
    for (let g = 0; g < 20; g++) {
      const a = low.ask(), b = high.ask();
      assert.deepEqual(a, b);
      low.tell(a, a.map(sphere));
      high.tell(b, b.map((x) => -sphere(x)));
    }
    assert.deepEqual(low.mean, high.mean);
    assert.equal(low.sigma, high.sigma);
    assert.equal(low.best!.fitness, -high.best!.fitness);
  });

  await t.step("the same seed gives the same run; the order of candidates does not matter", () => {
    const run = (shuffle: boolean) => {
      const es = new CmaEs({ dimension: 6, initialSigma: 0.3, rng: new Rng(8) });
      const order = new Rng(1);
      for (let g = 0; g < 30; g++) {
        const candidates = es.ask();
        if (shuffle) order.shuffle(candidates);
        es.tell(candidates, candidates.map(rosenbrock));
      }
      return { mean: Array.from(es.mean), sigma: es.sigma };
    };
    const plain = run(false);
    assert.deepEqual(run(false), plain);
    const shuffled = run(true);
    shuffled.mean.forEach((v, i) => assert.ok(Math.abs(v - plain.mean[i]) < 1e-12));
  });

  await t.step("best tracks the best candidate told so far", () => {
    const es = new CmaEs({ dimension: 3, initialSigma: 1, rng: new Rng(9) });
    assert.equal(es.best, null);
    let best = Infinity;
    for (let g = 0; g < 5; g++) {
      const candidates = es.ask();
      const fitness = candidates.map(sphere);
      best = Math.min(best, ...fitness);
      es.tell(candidates, fitness);
      assert.equal(es.best!.fitness, best);
      assert.equal(sphere(es.best!.candidate), best);
    }
  });

  await t.step("bad arguments are clear errors", () => {
    const rng = new Rng(0);
    assert.throws(() => new CmaEs({ dimension: 0, initialSigma: 1, rng }), /dimension/);
    assert.throws(() => new CmaEs({ dimension: 2, initialSigma: 0, rng }), /initialSigma/);
    assert.throws(
      () => new CmaEs({ dimension: 2, initialSigma: 1, rng, initialMean: [1] }),
      /initialMean/,
    );
    const es = new CmaEs({ dimension: 2, initialSigma: 1, rng });
    const candidates = es.ask();
    assert.throws(() => es.tell(candidates.slice(1), [1, 2]), /expected 6/);
    assert.throws(() => es.tell(candidates, candidates.map(() => Number.NaN)), /NaN/);
  });

  await t.step(
    "a World Models sized controller (n = 867, lambda = 64) steps in reasonable time",
    () => {
      const es = new CmaEs({
        dimension: 867,
        populationSize: 64,
        initialSigma: 0.1,
        rng: new Rng(1),
      });
      const start = performance.now();
      const candidates = es.ask();
      es.tell(candidates, candidates.map(sphere));
      assert.ok(performance.now() - start < 5000);
      assert.ok(es.eigenInterval >= 2, "the eigendecomposition is refreshed lazily");
    },
  );
});
