/**
 * Small training runs of the three world models (a narrow VAE, an MDN-RNN, a small RSSM), used by
 * tests/tensor/native_path_test.ts: run as a script it prints each model's losses as JSON, so
 * the same steps can be run in processes with and without the BLAS and compared.
 *
 *   deno run -A tests/tensor/_small_training.ts [steps]
 */
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import { ConvVae, narrowVaeConfig } from "../../lib/models/vae.ts";
import { MdnRnn } from "../../lib/models/mdn_rnn.ts";
import { adam } from "../../lib/tensor/mod.ts";
import { PLANET_TRAINER_OPTIONS, Rssm, RssmTrainer } from "../../lib/models/rssm.ts";

export interface SmallTraining {
  /** One training step of each model; returns the three losses. */
  step(): number[];
  dispose(): void;
}

export function smallTraining(): SmallTraining {
  const vae = new ConvVae(
    narrowVaeConfig(1 / 8, { latentSize: 4, learningRate: 2e-3 }),
    new Rng(0),
  );
  const frames = tf.randomUniform([4, 64, 64, 3], 0, 1, "float32", 1) as tf.Tensor4D;

  const memory = new MdnRnn({
    latentSize: 4,
    actionSize: 2,
    hiddenSize: 16,
    numMixtures: 3,
    predictDone: true,
    episodeStartInput: false,
    doneLossWeight: 10,
  }, new Rng(1));
  const memoryOptimizer = adam(1e-3);
  const sequence = {
    inputs: tf.randomNormal([3, 8, 6], 0, 1, "float32", 2) as tf.Tensor3D,
    targets: tf.randomNormal([3, 8, 4], 0, 1, "float32", 3) as tf.Tensor3D,
    done: tf.zeros([3, 8]) as tf.Tensor2D,
    mask: tf.ones([3, 8]) as tf.Tensor2D,
  };
  const memoryState = memory.lstm.zeroState(3);

  const rssm = new Rssm({
    observation: { kind: "vector", size: 5 },
    actionSize: 1,
    deterministicSize: 16,
    stochasticSize: 4,
    hiddenSize: 16,
    embedSize: 16,
    convDepth: 8,
    minStd: 0.1,
    freeNats: 1,
  }, new Rng(2));
  const trainer = new RssmTrainer(rssm, PLANET_TRAINER_OPTIONS);
  const chunks = {
    observations: tf.randomNormal([4, 6, 5], 0, 1, "float32", 4) as tf.Tensor3D,
    actions: tf.randomUniform([4, 6, 1], -1, 1, "float32", 5) as tf.Tensor3D,
    rewards: tf.randomUniform([4, 6], 0, 1, "float32", 6) as tf.Tensor2D,
  };
  const noise = tf.randomNormal([4, 6, 4], 0, 1, "float32", 7) as tf.Tensor3D;

  return {
    step() {
      const vaeLoss = vae.trainStep(frames).loss;
      const { loss: memoryLoss, final } = memory.trainStep(memoryOptimizer, sequence, memoryState);
      tf.dispose([final.h, final.c]);
      const rssmLoss = trainer.step(chunks, noise).total;
      return [vaeLoss, memoryLoss, rssmLoss];
    },
    dispose() {
      tf.dispose([frames, memoryState.h, memoryState.c, noise]);
      tf.dispose(Object.values(sequence));
      tf.dispose(Object.values(chunks));
      vae.dispose();
      memory.dispose();
      memoryOptimizer.dispose();
      trainer.dispose();
      rssm.dispose();
    },
  };
}

if (import.meta.main) {
  const steps = Number(Deno.args[0] ?? 5);
  const training = smallTraining();
  const losses = Array.from({ length: steps }, () => training.step());
  training.dispose();
  console.log(JSON.stringify(losses));
}
