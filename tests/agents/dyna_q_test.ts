import assert from "node:assert/strict";
import { DynaQAgent, type DynaQOptions } from "../../lib/agents/dyna_q.ts";
import { DYNA_MAZE, GridMaze } from "../../lib/envs/grid_maze.ts";
import { Rng } from "../../lib/rng.ts";

const rngs = (seed: number) => ({ acting: new Rng(seed), planning: new Rng(seed + 1) });
const options = (changes: Partial<DynaQOptions>): DynaQOptions => ({
  numStates: 4,
  numActions: 4,
  planningSteps: 0,
  stepSize: 0.1,
  epsilon: 0.1,
  discount: 0.95,
  ...changes,
});

Deno.test("DynaQAgent", async (t) => {
  await t.step("the one-step Q-learning update, worked by hand", () => {
    const agent = new DynaQAgent(options({}), rngs(0));
    agent.learn(0, 1, 1, 1, true); // into the terminal goal: Q = 0 + 0.1 (1 - 0)
    assert.equal(agent.q[0 * 4 + 1], 0.1);
    agent.learn(2, 0, 0, 0, false); // bootstraps from max Q(0, .) = 0.1
    assert.ok(Math.abs(agent.q[2 * 4 + 0] - 0.1 * 0.95 * 0.1) < 1e-12);
  });

  await t.step("planning replays the remembered transition", () => {
    const agent = new DynaQAgent(options({ planningSteps: 1 }), rngs(0));
    agent.learn(0, 1, 1, 1, true); // direct update to 0.1, then one replay: 0.1 + 0.1 * 0.9
    assert.ok(Math.abs(agent.q[1] - 0.19) < 1e-12);
  });

  await t.step("with enough planning the values converge to gamma^(steps to goal - 1)", () => {
    const maze = new GridMaze(DYNA_MAZE);
    const agent = new DynaQAgent(
      options({ numStates: maze.numStates, planningSteps: 50 }),
      rngs(3),
    );
    for (let episode = 0; episode < 60; episode++) {
      maze.reset();
      let done = false;
      while (!done) {
        const state = maze.state;
        const action = agent.act(state);
        const { reward, terminated } = maze.step(action);
        agent.learn(state, action, reward, maze.state, terminated);
        done = terminated;
      }
    }
    // The greedy policy now walks the 14-step shortest path ...
    maze.reset();
    let steps = 0;
    while (maze.state !== maze.goalState && steps < 100) {
      maze.step(agent.greedyAction(maze.state));
      steps++;
    }
    assert.equal(steps, 14);
    // ... and the start's value is gamma^13, the discounted reward 14 steps away.
    const start = maze.startState * 4;
    const startValue = Math.max(...agent.q.slice(start, start + 4));
    assert.ok(Math.abs(startValue - 0.95 ** 13) < 1e-3, `${startValue}`);
  });

  await t.step("Dyna-Q+ values untried actions through the exploration bonus", () => {
    const single = options({ numStates: 1, numActions: 2, planningSteps: 100 });
    const plus = new DynaQAgent({ ...single, explorationBonus: 0.5 }, rngs(1));
    plus.learn(0, 0, 0, 0, false);
    assert.ok(plus.q[1] > plus.q[0] && plus.q[0] > 0, `${plus.q}`);
    const plain = new DynaQAgent(single, rngs(1));
    plain.learn(0, 0, 0, 0, false);
    assert.deepEqual([...plain.q], [0, 0]);
  });

  await t.step("greedy ties are broken at random", () => {
    const agent = new DynaQAgent(options({ epsilon: 0 }), rngs(5));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[agent.act(0)]++;
    for (const count of counts) assert.ok(count > 850 && count < 1150, `${counts}`);
  });
});
