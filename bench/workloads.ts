/**
 * The training and planning steps the bench times and profiles, each built once with random data
 * at a fixed seed and stepped many times. bench/torch_workloads.py builds the same work in
 * PyTorch (same layer sizes, batch shapes, losses and optimiser) for the side-by-side rows.
 *
 *   vae          World Models V (Ha & Schmidhuber 2018, A.1): z 32, 64x64x3, batch 100, Adam
 *   mlp          a 64-512-512-64 ReLU MLP, batch 256, squared error, Adam
 *   mdn-rnn      World Models M: LSTM 256, 5 mixtures, z 32, 3 actions, 100 chunks of 50 steps
 *   rssm-laptop  PlaNet's RSSM at the laptop size (GRU 64, 16 stochastic), 50 chunks of 50 steps
 *   rssm-paper   PlaNet's RSSM at the paper's size (GRU 200, 30 stochastic), 50 chunks of 50 steps
 *   cem-paper    one CEM planning step at the paper's settings (H 12, J 1000, K 100, I 10) with
 *                the paper-size RSSM
 */
import { adam, tf } from "../lib/tensor/mod.ts";
import { Rng } from "../lib/rng.ts";
import { ConvVae, PAPER_VAE_CONFIG } from "../lib/models/vae.ts";
import { MdnRnn } from "../lib/models/mdn_rnn.ts";
import { dense, ParameterSet, sequential } from "../lib/models/nn.ts";
import {
  PLANET_RSSM_SIZES,
  PLANET_TRAINER_OPTIONS,
  Rssm,
  type RssmConfig,
  RssmTrainer,
} from "../lib/models/rssm.ts";
import { cemPlan, PLANET_CEM_SETTINGS } from "../lib/planners/cem.ts";

export type WorkloadName = "vae" | "mlp" | "mdn-rnn" | "rssm-laptop" | "rssm-paper" | "cem-paper";
export const WORKLOAD_NAMES: readonly WorkloadName[] = [
  "vae",
  "mlp",
  "mdn-rnn",
  "rssm-laptop",
  "rssm-paper",
  "cem-paper",
];

export interface Workload {
  name: WorkloadName;
  /** What one step is, for tables. */
  description: string;
  /** Items one step processes (frames, sequences, ...), for throughput. */
  itemsPerStep: number;
  itemUnit: string;
  step(): void;
  dispose(): void;
}

/** The sizes shared with bench/torch_workloads.py. */
export const WORKLOAD_SIZES = {
  vae: { batch: 100 },
  mlp: { batch: 256, sizes: [64, 512, 512, 64] },
  mdnRnn: { hidden: 256, mixtures: 5, latent: 32, actions: 3, batch: 100, steps: 50 },
  rssm: { batch: 50, steps: 50, observation: 5, actions: 1 },
  laptopRssm: { deterministicSize: 64, stochasticSize: 16, hiddenSize: 64, embedSize: 64 },
} as const;

function vae(): Workload {
  const model = new ConvVae(PAPER_VAE_CONFIG, new Rng(0));
  const { batch } = WORKLOAD_SIZES.vae;
  const frames = tf.randomUniform([batch, 64, 64, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  return {
    name: "vae",
    description: `VAE training step, batch ${batch}, 64x64x3, z 32`,
    itemsPerStep: batch,
    itemUnit: "frames",
    step: () => void model.trainStep(frames),
    dispose: () => (frames.dispose(), model.dispose()),
  };
}

function mlp(): Workload {
  const { batch, sizes } = WORKLOAD_SIZES.mlp;
  const params = new ParameterSet("bench_mlp", new Rng(0));
  const net = sequential(
    ...sizes.slice(1).map((out, i) =>
      dense(params, `dense${i}`, sizes[i], out, i < sizes.length - 2 ? "relu" : "linear")
    ),
  );
  const optimizer = adam(1e-3);
  const x = tf.randomNormal([batch, sizes[0]], 0, 1, "float32", 1);
  const y = tf.randomNormal([batch, sizes.at(-1)!], 0, 1, "float32", 2);
  return {
    name: "mlp",
    description: `MLP ${sizes.join("-")} Adam step, batch ${batch}`,
    itemsPerStep: batch,
    itemUnit: "rows",
    step() {
      const cost = optimizer.minimize(
        () => tf.mean(tf.square(tf.sub(net.apply(x), y))) as tf.Scalar,
        true,
        params.list(),
      );
      cost!.dataSync();
      cost!.dispose();
    },
    dispose: () => (tf.dispose([x, y]), optimizer.dispose(), params.dispose()),
  };
}

function mdnRnn(): Workload {
  const { hidden, mixtures, latent, actions, batch, steps } = WORKLOAD_SIZES.mdnRnn;
  const model = new MdnRnn({
    latentSize: latent,
    actionSize: actions,
    hiddenSize: hidden,
    numMixtures: mixtures,
    predictDone: false,
    episodeStartInput: false,
    doneLossWeight: 1,
  }, new Rng(0));
  const optimizer = adam(1e-3);
  const inputSize = latent + actions;
  const data = {
    inputs: tf.randomNormal([batch, steps, inputSize], 0, 1, "float32", 1) as tf.Tensor3D,
    targets: tf.randomNormal([batch, steps, latent], 0, 1, "float32", 2) as tf.Tensor3D,
    done: tf.zeros([batch, steps]) as tf.Tensor2D,
    mask: tf.ones([batch, steps]) as tf.Tensor2D,
  };
  const state = model.lstm.zeroState(batch);
  return {
    name: "mdn-rnn",
    description: `MDN-RNN step, LSTM ${hidden}, ${mixtures} mixtures, z ${latent}, ` +
      `${batch} x ${steps} steps`,
    itemsPerStep: batch * steps,
    itemUnit: "steps",
    step() {
      const { final } = model.trainStep(optimizer, data, state);
      tf.dispose([final.h, final.c]);
    },
    dispose() {
      tf.dispose([data.inputs, data.targets, data.done, data.mask, state.h, state.c]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

function rssm(size: "laptop" | "paper"): Workload {
  const { batch, steps, observation, actions } = WORKLOAD_SIZES.rssm;
  const sizes = size === "paper" ? PLANET_RSSM_SIZES : {
    ...PLANET_RSSM_SIZES,
    ...WORKLOAD_SIZES.laptopRssm,
  };
  const config: RssmConfig = {
    ...sizes,
    observation: { kind: "vector", size: observation },
    actionSize: actions,
  };
  const model = new Rssm(config, new Rng(0));
  const trainer = new RssmTrainer(model, PLANET_TRAINER_OPTIONS);
  const data = {
    observations: tf.randomNormal([batch, steps, observation], 0, 1, "float32", 1) as tf.Tensor3D,
    actions: tf.randomUniform([batch, steps, actions], -1, 1, "float32", 2) as tf.Tensor3D,
    rewards: tf.randomUniform([batch, steps], 0, 1, "float32", 3) as tf.Tensor2D,
  };
  const noise = tf.randomNormal(
    [batch, steps, config.stochasticSize],
    0,
    1,
    "float32",
    4,
  ) as tf.Tensor3D;
  return {
    name: size === "paper" ? "rssm-paper" : "rssm-laptop",
    description: `RSSM step (GRU ${config.deterministicSize}, ${config.stochasticSize} ` +
      `stochastic), ${batch} x ${steps} steps`,
    itemsPerStep: batch * steps,
    itemUnit: "steps",
    step: () => void trainer.step(data, noise),
    dispose() {
      tf.dispose([data.observations, data.actions, data.rewards, noise]);
      trainer.dispose();
      model.dispose();
    },
  };
}

function cemPaper(): Workload {
  const model = new Rssm({
    ...PLANET_RSSM_SIZES,
    observation: { kind: "vector", size: WORKLOAD_SIZES.rssm.observation },
    actionSize: 1,
  }, new Rng(0));
  const state = model.initialState(1);
  const rng = new Rng(1);
  const { planningHorizon, candidates, elites, iterations } = PLANET_CEM_SETTINGS;
  return {
    name: "cem-paper",
    description: `CEM planning step, H ${planningHorizon}, J ${candidates}, K ${elites}, ` +
      `I ${iterations}, RSSM 200+30`,
    itemsPerStep: 1,
    itemUnit: "plans",
    step: () => void cemPlan(model, state, { ...PLANET_CEM_SETTINGS, actionSize: 1 }, rng),
    dispose: () => (tf.dispose([state.deterministic, state.stochastic]), model.dispose()),
  };
}

export function makeWorkload(name: WorkloadName): Workload {
  switch (name) {
    case "vae":
      return vae();
    case "mlp":
      return mlp();
    case "mdn-rnn":
      return mdnRnn();
    case "rssm-laptop":
      return rssm("laptop");
    case "rssm-paper":
      return rssm("paper");
    case "cem-paper":
      return cemPaper();
  }
}

/** Median seconds per step over `repeats` timed steps after `warmup` untimed ones. */
export function timeWorkload(workload: Workload, warmup: number, repeats: number): number {
  for (let i = 0; i < warmup; i++) workload.step();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    workload.step();
    times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
