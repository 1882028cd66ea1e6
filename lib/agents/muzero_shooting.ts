/**
 * PlaNet-style planning inside MuZero's learned model: action sequences of a fixed horizon H are
 * rolled out with the dynamics function alone and scored by the sum of predicted rewards, with no
 * value at the horizon and no policy (Hafner et al. 2019, "Learning Latent Dynamics for Planning
 * from Pixels", Section 3 "Planning algorithm"), for discrete actions:
 *
 *   random shooting  J random sequences, the first action of the best;
 *   cross-entropy    I rounds of J sequences drawn from one categorical distribution per step,
 *                    each refitted to the K best (their action frequencies); the most frequent
 *                    first action among the last elites is played.
 *
 * It exists to test the study notes' guess that MuZero "could improve planning by adding a policy
 * and a value function" (Schrittwieser et al. 2020): on the same model, at the same number of
 * model evaluations per action (J · H per round), against MuZero's search.
 */
import type { Rng } from "../rng.ts";
import type { MuZeroModel } from "../planners/mcts.ts";

export interface ShootingSettings {
  /** H. */
  horizon: number;
  /** J, per round. */
  candidates: number;
  /** I: 1 is random shooting, more is the cross-entropy method. */
  iterations: number;
  /** K of the cross-entropy method (ignored with one round). */
  elites: number;
}

/** Model evaluations one plan spends per root: I · J · H dynamics steps. */
export function shootingEvaluations(settings: ShootingSettings): number {
  return settings.iterations * settings.candidates * settings.horizon;
}

/**
 * Plans from `roots` hidden states (rows of `latents`, from the model's initial inference) and
 * returns one action per root.
 */
export function planByShooting(
  model: MuZeroModel<unknown>,
  latents: Float32Array,
  roots: number,
  settings: ShootingSettings,
  rng: Rng,
): Int32Array {
  const { horizon, candidates, iterations } = settings;
  const elites = Math.min(settings.elites, candidates);
  for (const [name, value] of Object.entries({ horizon, candidates, iterations, elites })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`shooting: ${name} must be a positive integer, got ${value}`);
    }
  }
  const numActions = model.numActions;
  const latentSize = model.latentSize;
  if (latents.length !== roots * latentSize) {
    throw new RangeError(`shooting: ${latents.length} numbers for ${roots} hidden states`);
  }
  const rows = roots * candidates;
  // Per root and step, a categorical distribution over actions, uniform at first.
  const probabilities = new Float64Array(roots * horizon * numActions).fill(1 / numActions);
  const sequences = new Int32Array(rows * horizon);
  const returns = new Float64Array(rows);
  const states = new Float32Array(rows * latentSize);
  const stepActions = new Int32Array(rows);
  const chosen = new Int32Array(roots);
  const order = Array.from({ length: candidates }, (_, i) => i);
  for (let round = 0; round < iterations; round++) {
    for (let row = 0; row < rows; row++) {
      const root = Math.floor(row / candidates);
      states.set(latents.subarray(root * latentSize, (root + 1) * latentSize), row * latentSize);
      for (let t = 0; t < horizon; t++) {
        sequences[row * horizon + t] = draw(
          probabilities,
          (root * horizon + t) * numActions,
          numActions,
          rng,
        );
      }
    }
    returns.fill(0);
    for (let t = 0; t < horizon; t++) {
      for (let row = 0; row < rows; row++) stepActions[row] = sequences[row * horizon + t];
      const out = model.recurrentInference(states, stepActions);
      for (let row = 0; row < rows; row++) returns[row] += out.rewards[row];
      states.set(out.latents);
    }
    for (let root = 0; root < roots; root++) {
      const base = root * candidates;
      order.sort((a, b) => returns[base + b] - returns[base + a]);
      if (iterations === 1) {
        chosen[root] = sequences[(base + order[0]) * horizon];
        continue;
      }
      // Refit each step's distribution to the elites' action frequencies.
      for (let t = 0; t < horizon; t++) {
        const offset = (root * horizon + t) * numActions;
        probabilities.fill(0, offset, offset + numActions);
        for (let e = 0; e < elites; e++) {
          probabilities[offset + sequences[(base + order[e]) * horizon + t]] += 1 / elites;
        }
      }
      let best = 0;
      for (let a = 1; a < numActions; a++) {
        if (
          probabilities[root * horizon * numActions + a] >
            probabilities[root * horizon * numActions + best]
        ) {
          best = a;
        }
      }
      chosen[root] = best;
    }
  }
  return chosen;
}

function draw(probabilities: Float64Array, offset: number, n: number, rng: Rng): number {
  let threshold = rng.next();
  for (let a = 0; a < n - 1; a++) {
    threshold -= probabilities[offset + a];
    if (threshold < 0) return a;
  }
  return n - 1;
}
