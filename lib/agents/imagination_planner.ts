/**
 * The Imagination-based Planner (Pascanu et al. 2017, arXiv:1707.06170, Sections 2 and 3) on the
 * single-action spaceship task: before its one real action the agent imagines, step by step,
 * proposing an action with the controller, predicting its outcome with the learned model and
 * folding the step into its plan context (the memory); then it acts from the real state with the
 * plan context. How many steps and from which states is either fixed (a strategy and a count) or
 * decided by the manager, which pays a cost per imagination step.
 *
 * Training as in the paper: controller and memory by backpropagating the model's predicted loss
 * of the real action (reparameterised actions, the model held fixed); the manager by REINFORCE on
 * the real outcome, the task loss plus the imagination cost, with a moving-average baseline.
 */
import { adam, tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import {
  sampleSpaceshipState,
  simulateSpaceship,
  spaceshipLoss,
  type SpaceshipSettings,
} from "../envs/spaceship.ts";
import type { SpaceshipModel } from "../models/spaceship_model.ts";
import type { LstmState } from "../models/lstm.ts";
import type { Progress } from "../progress.ts";
import { ControllerAndMemory, type ControllerConfig } from "./imagination_planner_controller.ts";
import {
  chooseRoutes,
  ImaginationManager,
  type ManagerConfig,
  reinforceLoss,
  routeLogProb,
} from "./imagination_planner_manager.ts";
import {
  classifyChoice,
  type ImaginationStrategy,
  sourceNode,
} from "./imagination_planner_strategies.ts";

/** A fixed strategy and number of imagination steps, or the manager free to choose. */
export type PlannerMode =
  | { kind: "fixed"; strategy: ImaginationStrategy; steps: number }
  | { kind: "manager"; maxSteps: number; imaginationCost: number };

export interface ImaginationPlannerConfig {
  controller: ControllerConfig;
  manager: ManagerConfig;
  /** σ of the reparameterised action noise, before the tanh. */
  actionNoise: number;
  learningRate: number;
  managerLearningRate: number;
  entropyBonus: number;
  gradClipNorm: number;
  batchSize: number;
  updates: number;
}

export type RouteCounts = Record<ImaginationStrategy, number>;

export class ImaginationPlanner {
  readonly core: ControllerAndMemory;
  readonly manager: ImaginationManager | null;

  constructor(
    readonly settings: SpaceshipSettings,
    readonly stateSize: number,
    readonly config: ImaginationPlannerConfig,
    readonly mode: PlannerMode,
    seed: number,
  ) {
    this.core = new ControllerAndMemory(stateSize, settings.maxForce, config.controller, seed);
    this.manager = mode.kind === "manager"
      ? new ImaginationManager(stateSize, config.controller.memorySize, config.manager, seed + 1)
      : null;
  }

  dispose(): void {
    this.core.dispose();
    this.manager?.dispose();
  }
}

/** What one batch of decisions produced; tensors are the caller's (or the tape's). */
export interface Decision {
  /** The real actions [B, 2]. */
  action: tf.Tensor2D;
  /** The model's predicted loss of each real action [B]. */
  predictedLoss: tf.Tensor1D;
  /** Imagination steps taken per row. */
  steps: number[];
  /** The manager's summed log-probabilities and entropies per row (null without a manager). */
  logProb: tf.Tensor1D | null;
  entropy: tf.Tensor1D | null;
  /** The manager's imagination choices where it had a choice, by the strategy they look like. */
  routes: RouteCounts;
}

/** Rows of `stacked` [B, N, S] picked by `indices` (one per row), differentiably. */
function pickNodes(stacked: tf.Tensor3D, indices: readonly number[]): tf.Tensor2D {
  const mask = tf.oneHot(tf.tensor1d([...indices], "int32"), stacked.shape[1]).expandDims(2);
  return tf.sum(tf.mul(stacked, mask), 1) as tf.Tensor2D;
}

/** A copy with no gradient path back (the manager's inputs: REINFORCE must not train memory). */
function detached(t: tf.Tensor2D | tf.Tensor3D): tf.Tensor {
  return tf.tensor(t.dataSync(), t.shape);
}

/**
 * Imagines and decides for a batch of real states [B, S]. With `explore`, actions carry the
 * reparameterised noise and the manager samples its routes; without, both are greedy.
 */
export function decide(
  planner: ImaginationPlanner,
  model: SpaceshipModel,
  real: tf.Tensor2D,
  rng: Rng,
  explore: boolean,
): Decision {
  const { core, manager, mode, config } = planner;
  const batch = real.shape[0];
  const noise = () => {
    if (!explore || config.actionNoise <= 0) return undefined;
    const values = new Float32Array(batch * 2);
    rng.fillNormal(values);
    return tf.tensor2d(values, [batch, 2]);
  };
  let memory: LstmState = core.memory.zeroState(batch);
  const nodes: tf.Tensor2D[] = [real];
  const active = new Array<boolean>(batch).fill(true);
  const steps = new Array<number>(batch).fill(0);
  const routes: RouteCounts = { "1-step": 0, "n-step": 0, "tree": 0 };
  const logProbs: tf.Tensor1D[] = [];
  const entropies: tf.Tensor1D[] = [];
  const maxSteps = mode.kind === "fixed" ? mode.steps : mode.maxSteps;
  for (let t = 0; t < maxSteps; t++) {
    let sources: number[];
    let imagining: boolean[];
    if (mode.kind === "fixed" || !manager) {
      const strategy = mode.kind === "fixed" ? mode.strategy : "1-step";
      sources = Array.from({ length: batch }, () => sourceNode(strategy, nodes.length, rng));
      imagining = active.slice();
    } else {
      if (!active.some((a) => a)) break;
      const stacked = tf.stack(nodes, 1) as tf.Tensor3D;
      const logits = manager.logits(
        detached(real) as tf.Tensor2D,
        detached(memory.h) as tf.Tensor2D,
        detached(stacked) as tf.Tensor3D,
      );
      const choices = chooseRoutes(
        logits.dataSync() as Float32Array,
        batch,
        nodes.length + 1,
        rng,
        !explore,
      );
      const { logProb, entropy } = routeLogProb(logits, choices);
      const weight = tf.tensor1d(active.map((a) => (a ? 1 : 0)));
      logProbs.push(tf.mul(logProb, weight) as tf.Tensor1D);
      entropies.push(tf.mul(entropy, weight) as tf.Tensor1D);
      imagining = choices.map((c, row) => active[row] && c > 0);
      sources = choices.map((c) => Math.max(0, c - 1));
      for (let row = 0; row < batch; row++) {
        if (!active[row]) continue;
        if (choices[row] === 0) active[row] = false;
        else {
          const kind = classifyChoice(sources[row], nodes.length);
          if (kind) routes[kind]++;
        }
      }
      if (!imagining.some((i) => i)) break;
    }
    const source = sources.every((s) => s === 0)
      ? real
      : pickNodes(tf.stack(nodes, 1) as tf.Tensor3D, sources);
    const action = core.act(real, source, memory.h, noise(), config.actionNoise);
    const imagined = model.predict(source, action);
    const reward = tf.neg(model.loss(imagined, action)) as tf.Tensor1D;
    const next = core.remember(memory, source, action, imagined, reward);
    const keep = tf.tensor2d(imagining.map((i) => (i ? 1 : 0)), [batch, 1]);
    const blend = (fresh: tf.Tensor2D, old: tf.Tensor2D) =>
      tf.add(tf.mul(fresh, keep), tf.mul(old, tf.sub(1, keep))) as tf.Tensor2D;
    memory = { h: blend(next.h, memory.h), c: blend(next.c, memory.c) };
    nodes.push(imagined);
    imagining.forEach((i, row) => (steps[row] += i ? 1 : 0));
  }
  const action = core.act(real, real, memory.h, noise(), config.actionNoise);
  const predictedLoss = model.loss(model.predict(real, action), action);
  return {
    action,
    predictedLoss,
    steps,
    logProb: logProbs.length ? tf.addN(logProbs) as tf.Tensor1D : null,
    entropy: entropies.length ? tf.addN(entropies) as tf.Tensor1D : null,
    routes,
  };
}

/** The real losses of actions [B, 2] (row-major) from states [B, S]. */
export function realLosses(
  settings: SpaceshipSettings,
  states: Float32Array,
  actions: Float32Array,
  stateSize: number,
): number[] {
  const out: number[] = [];
  const final = new Float32Array(stateSize);
  for (let row = 0; row < actions.length / 2; row++) {
    const state = states.subarray(row * stateSize, (row + 1) * stateSize);
    const [fx, fy] = [actions[2 * row], actions[2 * row + 1]];
    simulateSpaceship(state, fx, fy, settings, final);
    out.push(spaceshipLoss(final, fx, fy, settings));
  }
  return out;
}

/** Clips the gradients of one parameter set by global norm and applies them. */
function applyClipped(optimizer: tf.Optimizer, grads: tf.NamedTensorMap, clip: number): void {
  const names = Object.keys(grads);
  if (names.length === 0) return;
  tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(grads[name])))));
    const scale = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
    optimizer.applyGradients(names.map((name) => ({ name, tensor: tf.mul(grads[name], scale) })));
  });
}

/** Trains a planner in place; the trainer keeps the optimisers and the manager's baseline. */
export class ImaginationPlannerTrainer {
  readonly #coreOptimizer: tf.Optimizer;
  readonly #managerOptimizer: tf.Optimizer | null;
  #baseline: number | null = null;

  constructor(readonly planner: ImaginationPlanner, readonly model: SpaceshipModel) {
    this.#coreOptimizer = adam(planner.config.learningRate);
    this.#managerOptimizer = planner.manager ? adam(planner.config.managerLearningRate) : null;
  }

  /** One update on a batch of layouts drawn from `rng`; returns the mean predicted loss. */
  step(rng: Rng): { predictedLoss: number; realLoss: number | null; steps: number } {
    const { planner, model } = this;
    const { settings, stateSize, config, mode, manager } = planner;
    const batch = config.batchSize;
    const states = new Float32Array(batch * stateSize);
    for (let row = 0; row < batch; row++) {
      states.set(sampleSpaceshipState(settings, rng), row * stateSize);
    }
    const coreNames = new Set(planner.core.params.list().map((v) => v.name));
    const varList = [...planner.core.params.list(), ...(manager?.params.list() ?? [])];
    let predicted = 0;
    let real: number | null = null;
    let meanSteps = 0;
    const { value, grads } = tf.variableGrads(() => {
      const decision = decide(planner, model, tf.tensor2d(states, [batch, stateSize]), rng, true);
      const controllerLoss = tf.mean(decision.predictedLoss) as tf.Scalar;
      predicted = controllerLoss.dataSync()[0];
      meanSteps = decision.steps.reduce((a, b) => a + b, 0) / batch;
      if (!manager || !decision.logProb || mode.kind !== "manager") return controllerLoss;
      const losses = realLosses(
        settings,
        states,
        decision.action.dataSync() as Float32Array,
        stateSize,
      );
      real = losses.reduce((a, b) => a + b, 0) / batch;
      const returns = losses.map((loss, row) => -loss - mode.imaginationCost * decision.steps[row]);
      const meanReturn = returns.reduce((a, b) => a + b, 0) / batch;
      const baseline = this.#baseline ?? meanReturn;
      const advantages = Float32Array.from(returns, (r) => r - baseline);
      this.#baseline = 0.9 * baseline + 0.1 * meanReturn;
      const managerLoss = reinforceLoss(
        decision.logProb,
        advantages,
        decision.entropy ?? undefined,
        config.entropyBonus,
      );
      return tf.add(controllerLoss, managerLoss) as tf.Scalar;
    }, varList);
    value.dispose();
    const coreGrads: tf.NamedTensorMap = {};
    const managerGrads: tf.NamedTensorMap = {};
    for (const [name, grad] of Object.entries(grads)) {
      (coreNames.has(name) ? coreGrads : managerGrads)[name] = grad;
    }
    applyClipped(this.#coreOptimizer, coreGrads, config.gradClipNorm);
    if (this.#managerOptimizer) {
      applyClipped(this.#managerOptimizer, managerGrads, config.gradClipNorm);
    }
    tf.dispose(grads);
    return { predictedLoss: predicted, realLoss: real, steps: meanSteps };
  }

  dispose(): void {
    this.#coreOptimizer.dispose();
    this.#managerOptimizer?.dispose();
  }
}

/** Held-out results: the real loss of each episode, its imagination steps, the manager's routes. */
export interface PlannerEvaluation {
  losses: number[];
  steps: number[];
  routes: RouteCounts;
}

/** Plays the held-out layouts of `seeds` greedily, in batches. */
export function evaluatePlanner(
  planner: ImaginationPlanner,
  model: SpaceshipModel,
  seeds: readonly number[],
  batchSize = 64,
): PlannerEvaluation {
  const { settings, stateSize } = planner;
  const result: PlannerEvaluation = {
    losses: [],
    steps: [],
    routes: { "1-step": 0, "n-step": 0, "tree": 0 },
  };
  for (let start = 0; start < seeds.length; start += batchSize) {
    const chunk = seeds.slice(start, start + batchSize);
    const states = new Float32Array(chunk.length * stateSize);
    chunk.forEach((seed, row) =>
      states.set(sampleSpaceshipState(settings, new Rng(seed)), row * stateSize)
    );
    const { actions, steps, routes } = tf.tidy(() => {
      const d = decide(
        planner,
        model,
        tf.tensor2d(states, [chunk.length, stateSize]),
        new Rng(start),
        false,
      );
      return { actions: d.action.dataSync() as Float32Array, steps: d.steps, routes: d.routes };
    });
    result.losses.push(...realLosses(settings, states, actions, stateSize));
    result.steps.push(...steps);
    for (const kind of Object.keys(routes) as ImaginationStrategy[]) {
      result.routes[kind] += routes[kind];
    }
  }
  return result;
}

/** Trains a planner for `config.updates` updates, reporting progress; returns its curve. */
export function trainImaginationPlanner(
  planner: ImaginationPlanner,
  model: SpaceshipModel,
  rng: Rng,
  report: (progress: Progress) => void = () => {},
  label = "imagination-based planner",
): { update: number; predictedLoss: number; steps: number }[] {
  const trainer = new ImaginationPlannerTrainer(planner, model);
  const curve: { update: number; predictedLoss: number; steps: number }[] = [];
  const updates = planner.config.updates;
  const every = Math.max(1, Math.floor(updates / 20));
  let sum = 0, stepSum = 0, n = 0;
  for (let update = 0; update < updates; update++) {
    const { predictedLoss, steps } = trainer.step(rng);
    sum += predictedLoss;
    stepSum += steps;
    n++;
    if ((update + 1) % every === 0 || update === updates - 1) {
      curve.push({ update: update + 1, predictedLoss: sum / n, steps: stepSum / n });
      sum = stepSum = n = 0;
      report({ stage: label, done: update + 1, total: updates });
    }
  }
  trainer.dispose();
  return curve;
}
