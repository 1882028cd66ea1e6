/**
 * MuZero's replay and targets (Schrittwieser et al. 2020, Section 3 and Appendix G): n-step value
 * targets worked out by hand for a two-player game and a discounted single-agent episode, the
 * absorbing states past the end, prioritised sampling against its probabilities, and a byte
 * round trip that samples exactly as before.
 */
import assert from "node:assert/strict";
import {
  type GameRecord,
  MuZeroReplay,
  type MuZeroReplayConfig,
} from "../../lib/agents/muzero_replay.ts";
import { Rng } from "../../lib/rng.ts";

const OBSERVATION = 2;
const ACTIONS = 3;

function config(overrides: Partial<MuZeroReplayConfig> = {}): MuZeroReplayConfig {
  return {
    observationSize: OBSERVATION,
    numActions: ACTIONS,
    capacityGames: 100,
    unrollSteps: 3,
    tdSteps: 100,
    discount: 1,
    twoPlayer: true,
    priorityExponent: 1,
    importanceExponent: 1,
    priorityFloor: 0.01,
    ...overrides,
  };
}

/** A game of `rewards.length` decisions: observation t is [t, id], action t is t mod 3. */
function game(
  rewards: number[],
  rootValues: number[],
  extra: Partial<GameRecord> = {},
  id = 0,
): GameRecord {
  const T = rewards.length;
  return {
    length: T,
    observations: Float32Array.from(
      { length: T * OBSERVATION },
      (_, i) => (i % 2 === 0 ? i / 2 : id),
    ),
    actions: Int32Array.from({ length: T }, (_, t) => t % ACTIONS),
    rewards: Float32Array.from(rewards),
    rootValues: Float32Array.from(rootValues),
    policies: Float32Array.from({ length: T * ACTIONS }, (_, i) => (i % ACTIONS === 0 ? 1 : 0)),
    legalMasks: new Uint8Array(T * ACTIONS).fill(1),
    terminated: true,
    finalObservation: new Float32Array(OBSERVATION),
    finalValue: 0,
    ...extra,
  };
}

Deno.test("MuZero value targets", async (t) => {
  await t.step("two players: the outcome, its sign flipping at every ply", () => {
    const replay = new MuZeroReplay(config());
    // Five moves, the fifth wins for the player who made it (the first player).
    const record = game([0, 0, 0, 0, 1], [0, 0, 0, 0, 0]);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((t) => replay.valueTarget(record, t)), [
      1,
      -1,
      1,
      -1,
      1,
      0,
      0,
    ]);
  });

  await t.step("one player: n rewards discounted, then the search value n steps on", () => {
    const replay = new MuZeroReplay(config({ twoPlayer: false, tdSteps: 2, discount: 0.5 }));
    const record = game([1, 2, 3, 4], [10, 20, 30, 40]);
    // z_0 = 1 + 0.5·2 + 0.25·ν_2 = 9.5; z_1 = 2 + 0.5·3 + 0.25·40 = 13.5;
    // z_2 = 3 + 0.5·4 (the game ends) = 5; z_3 = 4; then absorbing 0.
    assert.deepEqual([0, 1, 2, 3, 4].map((t) => replay.valueTarget(record, t)), [
      9.5,
      13.5,
      5,
      4,
      0,
    ]);
  });

  await t.step("an episode cut by the time limit bootstraps from its final value", () => {
    const replay = new MuZeroReplay(config({ twoPlayer: false, tdSteps: 3, discount: 0.5 }));
    const record = game([1, 1], [0, 0], { terminated: false, finalValue: 8 });
    // z_0 = 1 + 0.5 + 0.25·8; z_1 = 1 + 0.5·8; z_2 = 8 (the state it stopped in).
    assert.deepEqual([0, 1, 2].map((t) => replay.valueTarget(record, t)), [3.5, 5, 8]);
  });
});

Deno.test("MuZero replay samples", async (t) => {
  await t.step("targets along the unroll, absorbing past the end", () => {
    const replay = new MuZeroReplay(config({ priorityExponent: 0, importanceExponent: 0 }));
    replay.addGame(game([0, 0, 1], [0, 0, 0]));
    const batch = replay.allocateBatch(64);
    replay.sample(new Rng(0), batch);
    const steps = 4;
    for (let row = 0; row < batch.size; row++) {
      const t = batch.positions[row];
      assert.equal(batch.observations[row * OBSERVATION], t);
      for (let k = 0; k < steps; k++) {
        const index = t + k;
        const cell = row * steps + k;
        if (k < 3) {
          const action = batch.actions[row * 3 + k];
          if (index < 3) assert.equal(action, index % ACTIONS);
          else assert.ok(action >= 0 && action < ACTIONS, "a random action past the end");
        }
        const expectedValue = index < 3 ? [1, -1, 1][index] : 0;
        assert.equal(batch.targetValues[cell], expectedValue);
        assert.equal(batch.valueMask[cell], 1);
        assert.equal(batch.targetRewards[cell], k > 0 && index - 1 === 2 ? 1 : 0);
        assert.equal(batch.policyMask[cell], index < 3 ? 1 : 0);
        assert.equal(batch.targetPolicies[cell * ACTIONS], index < 3 ? 1 : 0);
      }
      assert.equal(batch.weights[row], 1);
    }
    assert.deepEqual([...new Set(batch.positions)].sort(), [0, 1, 2]);
  });

  await t.step("a cut episode has no value or reward targets past its end", () => {
    const replay = new MuZeroReplay(config({ twoPlayer: false, tdSteps: 1 }));
    replay.addGame(game([1], [0], { terminated: false, finalValue: 5 }));
    const batch = replay.sample(new Rng(1), replay.allocateBatch(1));
    assert.deepEqual(Array.from(batch.valueMask), [1, 1, 0, 0]);
    assert.deepEqual(Array.from(batch.targetValues), [6, 5, 0, 0]);
    assert.deepEqual(Array.from(batch.policyMask), [1, 0, 0, 0]);
  });

  await t.step("positions are drawn in proportion to their priorities", () => {
    const replay = new MuZeroReplay(
      config({ twoPlayer: false, tdSteps: 1, discount: 0, priorityFloor: 1e-9 }),
    );
    // z_t = reward, so the stored priority |ν - z| is |rootValue - reward|: 1, 2, 3, 4.
    replay.addGame(game([0, 0], [1, 2]));
    replay.addGame(game([0, 0], [3, 4]));
    const batch = replay.allocateBatch(20_000);
    replay.sample(new Rng(2), batch);
    const counts = [0, 0, 0, 0];
    for (let row = 0; row < batch.size; row++) {
      counts[batch.gameIds[row] * 2 + batch.positions[row]]++;
    }
    counts.forEach((count, i) => {
      const expected = batch.size * (i + 1) / 10;
      assert.ok(Math.abs(count - expected) < 4 * Math.sqrt(expected), `position ${i}: ${count}`);
    });
    // w = (1 / (N P))^β over the largest: the least likely position weighs 1, the likeliest 1/4.
    for (let row = 0; row < batch.size; row++) {
      const priority = batch.gameIds[row] * 2 + batch.positions[row] + 1;
      assert.ok(Math.abs(batch.weights[row] - 1 / priority) < 1e-6);
    }
    // New priorities change the odds; ids of games that left are ignored.
    replay.updatePriorities(Int32Array.of(0, 1, 7), Int32Array.of(0, 1, 0), [9, 0, 5]);
    replay.sample(new Rng(3), batch);
    const first = batch.gameIds.filter((id, row) => id === 0 && batch.positions[row] === 0).length;
    // Priorities now 9, 2, 3 and 0: the first position is drawn 9/14 of the time.
    assert.ok(Math.abs(first / batch.size - 9 / 14) < 0.02, `share ${first / batch.size}`);
  });

  await t.step("the oldest games leave beyond capacity; ids keep counting", () => {
    const replay = new MuZeroReplay(config({ capacityGames: 2 }));
    for (let i = 0; i < 5; i++) replay.addGame(game([0, 1], [0, 0], {}, i));
    assert.equal(replay.numGames, 2);
    assert.equal(replay.gamesAdded, 5);
    assert.equal(replay.numPositions, 4);
    assert.deepEqual(replay.games().map((g) => g.id), [3, 4]);
    assert.equal(replay.game(1), null);
    const batch = replay.sample(new Rng(4), replay.allocateBatch(50));
    assert.ok(batch.gameIds.every((id) => id === 3 || id === 4));
  });

  await t.step("a game with arrays of the wrong size is refused", () => {
    const replay = new MuZeroReplay(config());
    assert.throws(
      () => replay.addGame({ ...game([0, 1], [0, 0]), rootValues: new Float32Array(3) }),
      /rootValues has 3 entries, expected 2/,
    );
  });

  await t.step("bytes round trip: same games, same priorities, same samples", () => {
    const replay = new MuZeroReplay(config({ tdSteps: 2, twoPlayer: false, discount: 0.9 }));
    const rng = new Rng(5);
    for (let i = 0; i < 6; i++) {
      const T = 1 + rng.int(5);
      replay.addGame(
        game(
          Array.from({ length: T }, () => rng.normal()),
          Array.from({ length: T }, () => rng.normal()),
          { terminated: i % 2 === 0, finalValue: i, finalObservation: Float32Array.of(i, -i) },
          i,
        ),
      );
    }
    replay.updatePriorities(Int32Array.of(2, 3), Int32Array.of(0, 0), [5, 0.5]);
    const copy = MuZeroReplay.deserialize(replay.serialize());
    assert.equal(copy.gamesAdded, replay.gamesAdded);
    assert.deepEqual(copy.games(), replay.games());
    const a = replay.sample(new Rng(6), replay.allocateBatch(32));
    const b = copy.sample(new Rng(6), copy.allocateBatch(32));
    assert.deepEqual(b, a);
    assert.throws(() => MuZeroReplay.deserialize(new Uint8Array([1, 2])), /truncated/);
    const bytes = replay.serialize();
    assert.throws(() => MuZeroReplay.deserialize(bytes.subarray(0, bytes.length - 4)), /promises/);
  });
});
