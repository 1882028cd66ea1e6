/**
 * The MuZero agent loop (Schrittwieser et al. 2020, Appendices G and H): the visit-count
 * temperature schedule, Reanalyse replacing targets with the latest network's search, and runs
 * that resume after an interruption with every self-play game kept and the same result as a run
 * never interrupted; files of another config are refused.
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import {
  makeMuZeroNetwork,
  type MuZeroConfig,
  muZeroFiles,
  reanalyse,
  searchConfigOf,
  temperatureAt,
  trainMuZero,
} from "../../lib/agents/muzero.ts";
import { BoardGameEnvironment, SearchPlayer, selfPlay } from "../../lib/agents/muzero_play.ts";
import { MuZeroReplay } from "../../lib/agents/muzero_replay.ts";
import { InterruptedError, UserError } from "../../lib/errors.ts";
import { TIC_TAC_TOE } from "../../lib/envs/tictactoe.ts";
import { Rng } from "../../lib/rng.ts";

const environment = new BoardGameEnvironment(TIC_TAC_TOE);

const TINY: MuZeroConfig = {
  network: {
    architecture: { kind: "mlp", latentSize: 8, hiddenSize: 16, hiddenLayers: 1 },
    value: { kind: "scalar" },
    reward: { kind: "scalar" },
  },
  search: {
    numSimulations: 6,
    discount: 1,
    dirichletAlpha: 1,
    explorationFraction: 0.25,
    valueBounds: { min: -1, max: 1 },
  },
  selfPlay: {
    gamesPerIteration: 6,
    parallelGames: 3,
    temperatureSchedule: [{ untilProgress: 0.5, temperature: 1 }, {
      untilProgress: 1,
      temperature: 0.5,
    }],
    greedyFromMove: 4,
    maxRandomOpeningMoves: 1,
  },
  training: {
    iterations: 4,
    updatesPerIteration: 30,
    batchSize: 8,
    unrollSteps: 3,
    tdSteps: 9,
    learningRate: 3e-3,
    learningRateDecayRate: 0.5,
    learningRateDecaySteps: 100,
    optimizer: "adam",
    weightDecay: 1e-4,
    valueLossWeight: 1,
    gradClipNorm: 0,
  },
  replay: { capacityGames: 100, priorityExponent: 1, importanceExponent: 1, priorityFloor: 0.05 },
  reanalyse: { positionsPerIteration: 12, batchSize: 5 },
};

Deno.test("the visit-count temperature schedule", () => {
  const selfPlaySettings = {
    ...TINY.selfPlay,
    temperatureSchedule: [
      { untilProgress: 0.5, temperature: 1 },
      { untilProgress: 0.75, temperature: 0.5 },
      { untilProgress: 1, temperature: 0.25 },
    ],
  };
  assert.equal(temperatureAt(selfPlaySettings, 0, 0), 1);
  assert.equal(temperatureAt(selfPlaySettings, 0.6, 1), 0.5);
  assert.equal(temperatureAt(selfPlaySettings, 0.9, 2), 0.25);
  assert.equal(temperatureAt(selfPlaySettings, 0.1, 4), 0, "greedy from move 4");
  assert.equal(temperatureAt({ ...selfPlaySettings, greedyFromMove: null }, 0.1, 8), 1);
});

Deno.test("Reanalyse replaces stored targets with the latest network's search", () => {
  const network = makeMuZeroNetwork(TINY, environment, 0);
  const player = new SearchPlayer(network, searchConfigOf(TINY, environment));
  const records = selfPlay(environment, player, {
    episodes: 4,
    parallel: 4,
    seedOf: (i) => i,
    temperature: () => 1,
    addNoise: true,
    rng: new Rng(1),
  });
  const replay = new MuZeroReplay({
    observationSize: 27,
    numActions: 9,
    capacityGames: 10,
    unrollSteps: 3,
    tdSteps: 9,
    discount: 1,
    twoPlayer: true,
    priorityExponent: 1,
    importanceExponent: 1,
    priorityFloor: 0.05,
  });
  for (const record of records) {
    // Mark the stored targets so that a refresh is visible.
    record.policies.fill(-1);
    record.rootValues.fill(7);
    replay.addGame(record);
  }
  const first = records[0].length + records[1].length;
  const { cursor, positions } = reanalyse(
    replay,
    player,
    { positionsPerIteration: first, batchSize: 3 },
    0,
    new Rng(2),
  );
  assert.equal(positions, first);
  assert.equal(cursor, 2, "continues with the third game");
  for (const [index, record] of records.entries()) {
    const refreshed = index < 2;
    assert.equal(record.policies.every((p) => p >= 0), refreshed, `game ${index}`);
    assert.equal(record.rootValues.some((v) => v === 7), !refreshed, `game ${index}`);
  }
  // The policy targets are searches with the root masked: nothing on occupied cells.
  for (let t = 0; t < records[0].length; t++) {
    for (let a = 0; a < 9; a++) {
      if (records[0].legalMasks[t * 9 + a] === 0) assert.equal(records[0].policies[t * 9 + a], 0);
    }
  }
  // It wraps around to the oldest game.
  const again = reanalyse(
    replay,
    player,
    { positionsPerIteration: 1_000, batchSize: 8 },
    cursor,
    new Rng(3),
  );
  assert.equal(again.cursor, 2);
  assert.equal(again.positions, replay.numPositions);
  network.dispose();
});

async function weights(dir: string): Promise<Uint8Array> {
  return await Deno.readFile(`${dir}/network/weights.bin`);
}

Deno.test("MuZero runs save, resume and refuse", async (t) => {
  const reference = await Deno.makeTempDir({ prefix: "muzero-reference-" });
  const interrupted = await Deno.makeTempDir({ prefix: "muzero-resume-" });
  let referenceCurve = "";

  await t.step("an uninterrupted run", async () => {
    const before = tf.memory().numTensors;
    const run = await trainMuZero(environment, TINY, { seed: 3, dataDir: reference });
    assert.equal(run.curve.length, 4);
    assert.equal(run.resumedIterations, 0);
    assert.equal(run.replay.gamesAdded, 24);
    assert.equal(run.curve.at(-1)!.updates, 120);
    assert.equal(run.curve.at(-1)!.games, 24);
    for (const record of run.curve) {
      assert.ok(record.losses && Number.isFinite(record.losses.total));
      assert.ok(record.reanalysed >= 12);
      assert.ok(record.draws >= 0 && record.draws <= 1);
    }
    run.network.dispose();
    assert.equal(tf.memory().numTensors, before, "the run leaves no tensor behind");
    referenceCurve = JSON.stringify(run.curve.map(({ seconds: _, ...rest }) => rest));
  });

  await t.step("interrupted during training, no self-play game is lost", async () => {
    const controller = new AbortController();
    let progressCalls = 0;
    await assert.rejects(
      trainMuZero(environment, TINY, {
        seed: 3,
        dataDir: interrupted,
        signal: controller.signal,
        onProgress: (progress) => {
          // Abort in the third iteration's updates, after its games were played.
          if (progress.done > 2.5 && progress.message?.includes("update")) controller.abort();
          progressCalls++;
        },
      }),
      (error: unknown) =>
        error instanceof InterruptedError &&
        /during iteration 3 \(its games are saved\)/.test(error.message),
    );
    assert.ok(progressCalls > 0);
    const files = muZeroFiles(interrupted);
    const saved = JSON.parse(await Deno.readTextFile(files.progress));
    assert.equal(saved.curve.length, 2);
    assert.equal(saved.selfPlayDone, 2, "the third iteration's self-play is on disk");
    const replay = MuZeroReplay.deserialize(await Deno.readFile(files.replay));
    assert.equal(replay.gamesAdded, 18);
  });

  await t.step("the resumed run ends exactly where the uninterrupted one did", async () => {
    const run = await trainMuZero(environment, TINY, { seed: 3, dataDir: interrupted });
    assert.equal(run.resumedIterations, 2);
    assert.equal(run.replay.gamesAdded, 24);
    assert.equal(JSON.stringify(run.curve.map(({ seconds: _, ...rest }) => rest)), referenceCurve);
    assert.deepEqual(await weights(interrupted), await weights(reference));
    run.network.dispose();
  });

  await t.step("a finished run is read back without playing or training", async () => {
    const started = performance.now();
    const run = await trainMuZero(environment, TINY, { seed: 3, dataDir: reference });
    assert.equal(run.resumedIterations, 4);
    assert.ok(performance.now() - started < 3000);
    run.network.dispose();
  });

  await t.step("files of another config are refused, naming the file", async () => {
    await assert.rejects(
      trainMuZero(environment, { ...TINY, search: { ...TINY.search, numSimulations: 7 } }, {
        seed: 3,
        dataDir: reference,
      }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("progress.json") &&
        error.message.includes("another config"),
    );
  });

  await t.step("a bad config names the field", async () => {
    await assert.rejects(
      trainMuZero(environment, { ...TINY, training: { ...TINY.training, unrollSteps: 0 } }, {
        seed: 0,
      }),
      (error: unknown) => error instanceof UserError && /training\.unrollSteps/.test(error.message),
    );
  });

  await Deno.remove(reference, { recursive: true });
  await Deno.remove(interrupted, { recursive: true });
});
