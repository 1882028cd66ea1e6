/**
 * The study notes' line on DreamerV2 ("It is similar to a Vector Quantized autoencoder but not
 * exactly the same") measured: the same autoencoder with a VQ codebook and with DreamerV2's
 * categorical latents (lib/models/discrete_autoencoder.ts), trained on the same MinAtar frames of
 * random play and measured on held-out frames of the same game: reconstruction error through the
 * codes, how many codes the frames use, and how sure the categorical posterior is of its code
 * (a codebook's assignment is always certain).
 */
import { Rng } from "../../rng.ts";
import { makeEnv } from "../../envs/registry.ts";
import { type Bottleneck, DiscreteAutoencoder } from "../../models/discrete_autoencoder.ts";
import { codeUsage, VQ_VAE_SETTINGS } from "../../models/vq.ts";
import type { Progress } from "../../progress.ts";
import type { FrameCodes, VqPlanningExperimentConfig } from "./config.ts";

type FramesConfig = VqPlanningExperimentConfig["frames"];

/** `count` frames of uniformly random play, episodes seeded in turn from `seed`. */
export function randomFrames(
  game: FramesConfig["game"],
  count: number,
  seed: number,
): Float32Array {
  const env = makeEnv(game);
  const size = env.observationSpec.shape.reduce((a, b) => a * b, 1);
  const frames = new Float32Array(count * size);
  const rng = new Rng(seed);
  const actions = env.actionSpec.kind === "discrete" ? env.actionSpec.n : 1;
  let episode = 0;
  let observation = env.reset(seed * 100_003 + episode);
  for (let i = 0; i < count; i++) {
    frames.set(observation, i * size);
    const step = env.step(rng.int(actions));
    observation = step.observation;
    if (step.terminated || step.truncated) observation = env.reset(seed * 100_003 + ++episode);
  }
  return frames;
}

/** Cells in one frame of the game. */
export function frameSize(game: FramesConfig["game"]): number {
  return makeEnv(game).observationSpec.shape.reduce((a, b) => a * b, 1);
}

/** Trains one bottleneck on `train` and measures it on `test`. */
export function measureBottleneck(
  config: FramesConfig,
  bottleneck: Bottleneck,
  train: Float32Array,
  test: Float32Array,
  seed: number,
  report: (progress: Progress) => void = () => {},
): FrameCodes {
  const size = frameSize(config.game);
  const model = new DiscreteAutoencoder({
    observationSize: size,
    hiddenSize: config.hiddenSize,
    bottleneck,
    variables: config.variables,
    classes: config.classes,
    codeSize: config.codeSize,
    commitmentCost: VQ_VAE_SETTINGS.commitmentCost,
    codebookDecay: VQ_VAE_SETTINGS.decay,
    // A code that takes under a tenth of its share of a batch is restarted.
    restartBelow: 0.1 * config.batchSize * config.variables / config.classes,
    klScale: config.klScale,
    learningRate: config.learningRate,
  }, new Rng(seed));
  const rng = new Rng(seed + 7);
  const trainCount = train.length / size;
  const batch = new Float32Array(config.batchSize * size);
  const curve: FrameCodes["curve"] = [];
  const every = Math.max(1, Math.floor(config.updates / 20));
  try {
    for (let update = 1; update <= config.updates; update++) {
      for (let row = 0; row < config.batchSize; row++) {
        const pick = rng.int(trainCount);
        batch.set(train.subarray(pick * size, (pick + 1) * size), row * size);
      }
      const losses = model.trainStep(batch, config.batchSize);
      if (update % every === 0 || update === config.updates) {
        curve.push({ update, ...losses });
        report({
          stage: `frames, ${bottleneck}`,
          done: update,
          total: config.updates,
          message: `reconstruction ${losses.reconstruction.toFixed(2)}`,
        });
      }
    }
    return { ...measure(model, test, size, config), curve };
  } finally {
    model.dispose();
  }
}

function measure(
  model: DiscreteAutoencoder,
  test: Float32Array,
  size: number,
  config: FramesConfig,
): Omit<FrameCodes, "curve"> {
  const frames = test.length / size;
  const { variables, classes } = config;
  const { crossEntropy, probabilities: pixels } = model.reconstruct(test, frames);
  const { codes, probabilities } = model.codes(test, frames);
  let wrong = 0;
  for (let i = 0; i < test.length; i++) wrong += (pixels[i] > 0.5 ? 1 : 0) === test[i] ? 0 : 1;
  let perplexity = 0;
  const slotCodes = new Int32Array(frames);
  const used = new Set<string>();
  for (let slot = 0; slot < variables; slot++) {
    for (let f = 0; f < frames; f++) {
      slotCodes[f] = codes[f * variables + slot];
      // A codebook is shared by the slots; categorical classes belong to their slot.
      used.add(model.quantizer ? `${slotCodes[f]}` : `${slot}:${slotCodes[f]}`);
    }
    perplexity += codeUsage(slotCodes, classes).perplexity / variables;
  }
  let maxProbability = 1;
  if (probabilities) {
    let total = 0;
    for (let row = 0; row < frames * variables; row++) {
      let largest = 0;
      for (let c = 0; c < classes; c++) {
        largest = Math.max(largest, probabilities[row * classes + c]);
      }
      total += largest;
    }
    maxProbability = total / (frames * variables);
  }
  return {
    crossEntropy: crossEntropy.reduce((a, b) => a + b, 0) / frames,
    wrongCells: wrong / frames,
    perplexity,
    distinctCodes: used.size,
    maxProbability,
  };
}
