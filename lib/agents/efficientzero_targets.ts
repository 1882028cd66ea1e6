/**
 * The training targets EfficientZero changes (Ye et al. 2021, "Mastering Atari Games with Limited
 * Data", Sections 4.2 and 4.3, and the reference implementation's reanalysis of targets).
 *
 * Value prefix (Section 4.2): at unroll step k the LSTM predicts the sum of the real rewards
 * u_{t+j} since its memory was last cleared, j = prefixStart(k)..k, every `horizon` steps. The
 * sum is undiscounted, as the reference implementation computes it ("since the horizon is small
 * and the discount is close to 1").
 *
 * Off-policy correction (Section 4.3): the older a transition, the further the policy that
 * collected it is from today's, and the less its n-step rewards say about today's value. The
 * value target's horizon shrinks with the data's age,
 *
 *   l = clip(n − floor(age / A), 1, n),
 *
 * age being the environment steps collected since the transition was, and A the age that costs
 * one step of horizon: the reference implementation's `auto_td_steps`, 0.3 of its 100,000
 * training steps (n = 5), so data older than 30,000 steps bootstraps after 4 steps, older than
 * 120,000 after 1. The bootstrap value itself comes from a fresh search of the latest model
 * (lib/agents/efficientzero_correction.ts).
 */
import { prefixStart } from "../models/efficientzero.ts";

/**
 * Value-prefix targets [B * (K + 1)] from per-step reward targets laid out as `MuZeroBatch`'s
 * (step 0 unused and left 0). Steps past the end of a game carry reward 0, so their prefix holds
 * the game's last sum, as the reference's targets do.
 */
export function valuePrefixTargets(
  rewards: Float32Array,
  batchSize: number,
  unrollSteps: number,
  horizon: number,
  out: Float32Array = new Float32Array(batchSize * (unrollSteps + 1)),
): Float32Array {
  const steps = unrollSteps + 1;
  for (let row = 0; row < batchSize; row++) {
    out[row * steps] = 0;
    let sum = 0;
    for (let k = 1; k < steps; k++) {
      if (prefixStart(k, horizon) === k) sum = 0;
      sum += rewards[row * steps + k];
      out[row * steps + k] = sum;
    }
  }
  return out;
}

/** The value target's horizon l for data `age` environment steps old (see the header). */
export function offPolicyTdSteps(tdSteps: number, age: number, ageStepsPerHorizonStep: number) {
  if (!(ageStepsPerHorizonStep >= 1)) {
    throw new RangeError(
      `ageStepsPerHorizonStep must be at least 1, got ${ageStepsPerHorizonStep}`,
    );
  }
  const shrink = Math.floor(Math.max(0, age) / ageStepsPerHorizonStep);
  return Math.min(tdSteps, Math.max(1, tdSteps - shrink));
}
