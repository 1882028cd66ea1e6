/**
 * What DreamerV2's discrete codes look like (Hafner et al. 2021, "Mastering Atari with Discrete
 * World Models", Section 2.1 and Figure 2), measured against a vector quantiser (van den Oord et
 * al. 2017, VQ-VAE), to which the study notes compare them. A VQ-VAE maps each input to exactly
 * one code (a probability of 1, an entropy of 0) by nearest neighbour; DreamerV2 samples each of
 * its categorical variables from a posterior the KL term keeps close to a learned prior. On
 * replayed sequences filtered by the world model we measure, per variable, the posterior's largest
 * class probability and its entropy, and how many classes the data use (the perplexity of the
 * posterior averaged over the batch).
 */
import { tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import type { Rssm, RssmState } from "../models/rssm.ts";
import type { DreamerReplay } from "./dreamer_replay.ts";

export interface CodeStatistics {
  /** Mean over real steps and variables of the posterior's largest class probability. */
  maxProbability: number;
  /** Mean posterior entropy per variable, in nats. */
  entropy: number;
  /** exp(entropy of the batch-averaged posterior), averaged over variables. */
  classesUsed: number;
  classes: number;
}

/** Code statistics of a categorical world model on `batchSize` replayed chunks. */
export function codeStatistics(
  model: Rssm,
  replay: DreamerReplay,
  batchSize: number,
  chunkLength: number,
  rng: Rng,
): CodeStatistics {
  const latent = model.latent;
  if (latent.kind !== "categorical") throw new Error("codeStatistics: the latents are Gaussian");
  const { variables, classes } = latent;
  const chunks = replay.sample(batchSize, chunkLength, rng);
  return tf.tidy(() => {
    const observations = tf.tensor3d(chunks.observations, [
      batchSize,
      chunkLength,
      replay.observationSize,
    ]);
    const actions = tf.tensor3d(chunks.actions, [batchSize, chunkLength, replay.actionSize]);
    const observationSteps = tf.unstack(observations, 1) as tf.Tensor2D[];
    const actionSteps = tf.unstack(actions, 1) as tf.Tensor2D[];
    const masks = tf.unstack(tf.tensor2d(chunks.mask, [batchSize, chunkLength]), 1);
    let state: RssmState = model.initialState(batchSize);
    const probabilities: tf.Tensor[] = [];
    const weights: tf.Tensor[] = [];
    for (let t = 0; t < chunkLength; t++) {
      const { deterministic } = model.transition(state, actionSteps[t]);
      const posterior = model.posterior(deterministic, model.encode(observationSteps[t]));
      if (posterior.kind !== "categorical") throw new Error("unreachable");
      probabilities.push(tf.softmax(posterior.logits.reshape([batchSize, variables, classes])));
      weights.push(masks[t]);
      state = { deterministic, stochastic: model.pointEstimate(posterior) };
    }
    // [rows, variables, classes] over real steps only.
    const all = tf.concat(probabilities, 0);
    const mask = tf.concat(weights, 0).reshape([-1, 1, 1]);
    const rows = tf.sum(mask).dataSync()[0];
    const perVariable = (x: tf.Tensor) =>
      tf.sum(tf.mul(x, mask.reshape([-1, 1]))).dataSync()[0] / (rows * variables);
    const maxProbability = perVariable(tf.max(all, 2));
    const entropy = perVariable(tf.neg(tf.sum(tf.mul(all, tf.log(tf.add(all, 1e-12))), 2)));
    const average = tf.div(tf.sum(tf.mul(all, mask), 0), rows); // [variables, classes]
    const usage = tf.exp(tf.neg(tf.sum(tf.mul(average, tf.log(tf.add(average, 1e-12))), 1)));
    return { maxProbability, entropy, classesUsed: tf.mean(usage).dataSync()[0], classes };
  });
}
