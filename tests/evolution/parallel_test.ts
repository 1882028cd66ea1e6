import assert from "node:assert/strict";
import { CmaEs } from "../../lib/evolution/cmaes.ts";
import { FitnessPool } from "../../lib/evolution/parallel.ts";
import { Rng } from "../../lib/rng.ts";

const MODULE = new URL("./fixtures/noisy_sphere.ts", import.meta.url);

function population(count: number, dimension: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const candidate = new Float64Array(dimension);
    rng.fillNormal(candidate);
    return candidate;
  });
}

/** The fixture's fitness, computed here from its definition. */
function expected(candidate: Float64Array, seed: number, offset: number): number {
  let sum = 0;
  for (const value of candidate) sum += value * value;
  return sum + 0.01 * new Rng(seed).normal() + offset;
}

Deno.test("FitnessPool", async (t) => {
  await t.step(
    "workers return each candidate's fitness, in order, as the sequential path",
    async () => {
      const candidates = population(37, 8, 1);
      using parallel = new FitnessPool({
        moduleUrl: MODULE,
        workers: 2,
        setupPayload: { offset: 3 },
      });
      using sequential = new FitnessPool({
        moduleUrl: MODULE,
        workers: 1,
        setupPayload: { offset: 3 },
      });
      assert.equal(sequential.sequential, true);
      const seeds = candidates.map((_, i) => 100 + 7 * i);
      const fromWorkers = await parallel.evaluate(candidates, { seeds });
      const inThread = await sequential.evaluate(candidates, { seeds });
      assert.deepEqual(fromWorkers, inThread);
      candidates.forEach((c, i) => assert.equal(fromWorkers[i], expected(c, seeds[i], 3)));
      // A single number seeds candidate i with seed + i; the pool is reusable.
      const again = await parallel.evaluate(candidates, { seeds: 50 });
      candidates.forEach((c, i) => assert.equal(again[i], expected(c, 50 + i, 3)));
    },
  );

  await t.step("CMA-ES runs identically with workers and sequentially", async () => {
    const run = async (workers: number) => {
      using pool = new FitnessPool({ moduleUrl: MODULE, workers });
      const es = new CmaEs({ dimension: 6, initialSigma: 1, rng: new Rng(3), populationSize: 12 });
      for (let g = 0; g < 8; g++) {
        const candidates = es.ask();
        es.tell(candidates, await pool.evaluate(candidates, { seeds: 1000 * g, generation: g }));
      }
      return { mean: Array.from(es.mean), sigma: es.sigma };
    };
    assert.deepEqual(await run(3), await run(1));
  });

  await t.step("an error in the fitness module rejects with its message", async () => {
    const candidates = population(6, 2, 2);
    for (const workers of [1, 2]) {
      using pool = new FitnessPool({ moduleUrl: MODULE, workers });
      await assert.rejects(pool.evaluate(candidates, { generation: -1 }), /planted failure/);
    }
    using broken = new FitnessPool({
      moduleUrl: new URL("./fixtures/no_fitness.ts", import.meta.url),
      workers: 2,
    });
    await assert.rejects(broken.evaluate(candidates), /does not export a function named "fitness"/);
  });

  await t.step("bad arguments are clear errors", async () => {
    assert.throws(() => new FitnessPool({ moduleUrl: MODULE, workers: 0 }), /workers/);
    using pool = new FitnessPool({ moduleUrl: MODULE, workers: 1 });
    await assert.rejects(pool.evaluate(population(3, 2, 0), { seeds: [1, 2] }), /2 seeds for 3/);
    pool.close();
    await assert.rejects(pool.evaluate(population(3, 2, 0)), /after close/);
  });
});
