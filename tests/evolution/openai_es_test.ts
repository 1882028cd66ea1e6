import assert from "node:assert/strict";
import { centredRanks, OpenAiEs } from "../../lib/evolution/openai_es.ts";
import { Rng } from "../../lib/rng.ts";

Deno.test("centredRanks maps the smallest to -0.5, the largest to 0.5, evenly between", () => {
  assert.deepEqual(Array.from(centredRanks([3, -10, 7, 0, 100])), [0, -0.5, 0.25, -0.25, 0.5]);
  assert.deepEqual(Array.from(centredRanks([2, 1, 2])), [0.25, -0.5, 0.25]);
  assert.deepEqual(Array.from(centredRanks([5])), [0]);
  // Ranks ignore the scale of fitness: an outlier moves nothing.
  assert.deepEqual(Array.from(centredRanks([1, 2, 3])), Array.from(centredRanks([1, 2, 1e9])));
});

Deno.test("OpenAiEs candidates come in mirrored pairs around the mean", () => {
  const es = new OpenAiEs({
    dimension: 3,
    populationSize: 4,
    noiseStd: 0.5,
    learningRate: 0.1,
    initialMean: [1, 2, 3],
    rng: new Rng(1),
  });
  const candidates = es.ask();
  assert.equal(candidates.length, 4);
  for (const k of [0, 2]) {
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs((candidates[k][i] + candidates[k + 1][i]) / 2 - (i + 1)) < 1e-12);
    }
  }
});

Deno.test("OpenAiEs gradient estimate points up a linear function", () => {
  const slope = [2, -1, 0.5, -3, 1];
  const es = new OpenAiEs({
    dimension: 5,
    populationSize: 200,
    noiseStd: 0.1,
    learningRate: 0.01,
    optimizer: "sgd",
    rng: new Rng(7),
  });
  const candidates = es.ask();
  es.tell(candidates.map((x) => x.reduce((sum, v, i) => sum + v * slope[i], 0)));
  const gradient = es.lastGradient;
  for (let i = 0; i < slope.length; i++) assert.equal(Math.sign(gradient[i]), Math.sign(slope[i]));
  // Sgd moved the mean by learningRate * gradient, so it went uphill.
  const mean = es.mean;
  assert.ok(mean.reduce((sum, v, i) => sum + v * slope[i], 0) > 0);
});

Deno.test("OpenAiEs with Adam converges on a quadratic", () => {
  const optimum = [1, -2, 0.5, 3, -1, 2, 0, -0.5, 1.5, -3];
  const fitness = (x: Float64Array) => -x.reduce((sum, v, i) => sum + (v - optimum[i]) ** 2, 0);
  const es = new OpenAiEs({
    dimension: optimum.length,
    populationSize: 20,
    noiseStd: 0.1,
    learningRate: 0.05,
    rng: new Rng(3),
  });
  const start = -fitness(es.mean);
  for (let generation = 0; generation < 400; generation++) {
    const candidates = es.ask();
    es.tell(candidates.map(fitness));
  }
  const end = -fitness(es.mean);
  assert.ok(end < 0.01 * start, `squared distance ${end} from ${start}`);
});

Deno.test("OpenAiEs weight decay pulls a flat problem's mean towards zero", () => {
  const es = new OpenAiEs({
    dimension: 2,
    populationSize: 4,
    noiseStd: 0.1,
    learningRate: 0.1,
    weightDecay: 0.5,
    optimizer: "sgd",
    initialMean: [4, -4],
    rng: new Rng(0),
  });
  for (let generation = 0; generation < 20; generation++) {
    const candidates = es.ask();
    es.tell(candidates.map(() => 1));
  }
  // Equal fitnesses share one rank, so only the decay acts: theta <- (1 - lr * decay) theta.
  const expected = 4 * 0.95 ** 20;
  assert.ok(Math.abs(es.mean[0] - expected) < 1e-9 && Math.abs(es.mean[1] + expected) < 1e-9);
});

Deno.test("OpenAiEs is seeded and rejects odd populations and bad fitness counts", () => {
  const run = () => {
    const es = new OpenAiEs({
      dimension: 4,
      populationSize: 6,
      noiseStd: 0.1,
      learningRate: 0.1,
      rng: new Rng(5),
    });
    for (let g = 0; g < 3; g++) es.tell(es.ask().map((x) => -(x[0] ** 2) + x[1]));
    return Array.from(es.mean);
  };
  assert.deepEqual(run(), run());
  assert.throws(
    () =>
      new OpenAiEs({
        dimension: 2,
        populationSize: 5,
        noiseStd: 0.1,
        learningRate: 0.1,
        rng: new Rng(0),
      }),
    /even/,
  );
  const es = new OpenAiEs({
    dimension: 2,
    populationSize: 4,
    noiseStd: 0.1,
    learningRate: 0.1,
    rng: new Rng(0),
  });
  es.ask();
  assert.throws(() => es.tell([1, 2]), /expected 4 fitnesses/);
});
