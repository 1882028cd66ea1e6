/**
 * The spaceship task: straight lines without planets, attraction and energy with one, the fuel
 * cost's threshold, seeded layouts, and one-line errors on bad actions.
 */
import assert from "node:assert/strict";
import { EpisodeOrderError } from "../../lib/envs/classic_env.ts";
import {
  fuelCost,
  sampleSpaceshipState,
  simulateSpaceship,
  SPACESHIP_DEFAULTS,
  SPACESHIP_PAPER_READING,
  SpaceshipEnv,
  spaceshipLoss,
  type SpaceshipSettings,
} from "../../lib/envs/spaceship.ts";
import { InvalidActionError } from "../../lib/envs/types.ts";
import { Rng } from "../../lib/rng.ts";

const EMPTY: SpaceshipSettings = { ...SPACESHIP_DEFAULTS, numPlanets: 0 };

/** Total energy of a ship (mass m) at (x, y, vx, vy) near one planet, with the softened potential. */
function energy(
  state: Float32Array,
  planet: [number, number, number],
  settings: SpaceshipSettings,
): number {
  const [x, y, vx, vy, m] = state;
  const r = Math.sqrt((planet[0] - x) ** 2 + (planet[1] - y) ** 2 + settings.softening ** 2);
  return 0.5 * m * (vx * vx + vy * vy) - settings.gravity * planet[2] * m / r;
}

Deno.test("spaceship task", async (t) => {
  await t.step("no planets: a straight line at constant speed, Δv = F Δt / m", () => {
    const state = Float32Array.of(0.5, -0.2, 0, 0, 0.25);
    const points: [number, number][] = [];
    const end = simulateSpaceship(state, 3, 4, EMPTY, undefined, (x, y) => points.push([x, y]));
    const dv = EMPTY.timeStep / 0.25;
    assert.ok(Math.abs(end[2] - 3 * dv) < 1e-5 && Math.abs(end[3] - 4 * dv) < 1e-5);
    for (const [x, y] of points) {
      // Every point lies on the line through the start along (3, 4).
      assert.ok(Math.abs((x - 0.5) * 4 - (y + 0.2) * 3) < 1e-5, `(${x}, ${y}) off the line`);
    }
    const travelled = Math.hypot(end[0] - 0.5, end[1] + 0.2);
    assert.ok(Math.abs(travelled - 5 * dv * EMPTY.timeStep * EMPTY.driftSteps) < 1e-4);
  });

  await t.step("a planet attracts, and the energy of the drift is nearly conserved", () => {
    const planet: [number, number, number] = [0.5, 0, 0.4];
    const state = Float32Array.of(0, 0, 0, 0.3, 0.2, ...planet);
    // The same half second of drift at two step sizes.
    const drift = (timeStep: number, s = state) =>
      simulateSpaceship(s, 0, 0, {
        ...SPACESHIP_DEFAULTS,
        numPlanets: 1,
        timeStep,
        driftSteps: Math.round(0.5 / timeStep),
      });
    const end = drift(0.002);
    assert.ok(end[0] > 0.05, `the ship moved towards the planet: x ${end[0]}`);
    assert.ok(end[2] > 0, "its velocity points at the planet");
    const settings = SPACESHIP_DEFAULTS;
    const before = energy(state, planet, settings);
    const fine = Math.abs(energy(end, planet, settings) - before);
    const coarse = Math.abs(energy(drift(0.01), planet, settings) - before);
    assert.ok(fine < 0.01 * Math.abs(before), `energy error ${fine} of ${before}`);
    assert.ok(fine < coarse, "the energy error shrinks with the step");
    // A heavier planet pulls harder.
    const heavy = drift(0.002, Float32Array.of(0, 0, 0, 0.3, 0.2, 0.5, 0, 0.8));
    assert.ok(heavy[0] > end[0]);
  });

  await t.step("fuel is free up to the threshold, then linear in the force's norm", () => {
    const s = SPACESHIP_PAPER_READING;
    assert.equal(fuelCost(4, 4, s), 0);
    assert.ok(Math.abs(fuelCost(6, 8, s) - s.fuelPrice * 2) < 1e-12);
    const final = Float32Array.of(0.3, 0.4, 0, 0, 1);
    assert.ok(Math.abs(spaceshipLoss(final, 9, 12, s) - (0.5 + s.fuelPrice * 7)) < 1e-6);
  });

  await t.step("the episode: one force, reward minus the loss, layouts fixed by the seed", () => {
    const env = new SpaceshipEnv();
    const start = env.reset(7).slice();
    assert.deepEqual([...new SpaceshipEnv().reset(7)], [...start]);
    assert.notDeepEqual([...new SpaceshipEnv().reset(8)], [...start]);
    const expected = simulateSpaceship(start, 2, -1, env.settings);
    const { observation, reward, terminated } = env.step([2, -1]);
    assert.deepEqual([...observation], [...expected]);
    assert.equal(reward, -spaceshipLoss(expected, 2, -1, env.settings));
    assert.equal(terminated, true);
    assert.throws(() => env.step([0, 0]), EpisodeOrderError);
    // Layouts follow the settings' ranges.
    const rng = new Rng(3);
    for (let i = 0; i < 50; i++) {
      const s = sampleSpaceshipState(SPACESHIP_DEFAULTS, rng);
      const r = Math.hypot(s[0], s[1]);
      assert.ok(r >= 0.6 - 1e-6 && r <= 1 + 1e-6 && s[4] >= 0.12 && s[4] <= 0.36);
      assert.equal(s[2], 0);
    }
  });

  await t.step("bad input: step before reset, wrong shape, NaN", () => {
    const env = new SpaceshipEnv();
    assert.throws(() => env.step([0, 0]), /before reset/);
    env.reset(1);
    for (const bad of [[1], [1, 2, 3], [Number.NaN, 0], [0, Infinity]]) {
      assert.throws(() => env.step(bad), (error: Error) => {
        assert.ok(error instanceof InvalidActionError);
        assert.match(error.message, /^Spaceship-v0: invalid action .*2 finite number/);
        assert.ok(!error.message.includes("\n"));
        return true;
      });
    }
    // Components beyond the force box are clipped, as the classic tasks do.
    const clipped = new SpaceshipEnv();
    const a = clipped.reset(2).slice();
    const big = clipped.step([100, 0]).observation.slice();
    assert.deepEqual([...big], [...simulateSpaceship(a, 16, 0, clipped.settings)]);
  });
});
