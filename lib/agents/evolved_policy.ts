/**
 * A policy network evolved by an evolution strategy, as Salimans et al. (2017, Section 3) and
 * Milano & Nolfi (2022) train theirs: the network's weights are one flat
 * vector, each candidate is scored by the summed reward of whole episodes, and the strategy
 * (OpenAI-ES or CMA-ES, lib/evolution) moves the vector. Environment steps are counted so the
 * comparison with reinforcement learning can be made at equal steps.
 *
 * The network: tanh hidden layers and a tanh output for continuous actions in [-1, 1]; for a
 * discrete task the output is one score per action and the policy takes the largest. Plain
 * TypeScript, since a forward pass of a few hundred weights costs less than a tensor call.
 */
import { Rng } from "../rng.ts";
import { OpenAiEs } from "../evolution/openai_es.ts";
import { CmaEs } from "../evolution/cmaes.ts";
import type { Action, Env } from "../envs/types.ts";
import type { Progress } from "../progress.ts";

export interface MlpShape {
  inputSize: number;
  hiddenSize: number;
  hiddenLayers: number;
  outputSize: number;
}

/** Weights of each layer (input-major) then its biases, layer after layer. */
export function mlpParameterCount(shape: MlpShape): number {
  let count = 0;
  let width = shape.inputSize;
  for (let i = 0; i <= shape.hiddenLayers; i++) {
    const out = i < shape.hiddenLayers ? shape.hiddenSize : shape.outputSize;
    count += width * out + out;
    width = out;
  }
  return count;
}

/** y = tanh(... tanh(x W1 + b1) ... W_L + b_L); the output layer's tanh only when `squash`. */
export function mlpForward(
  shape: MlpShape,
  parameters: ArrayLike<number>,
  input: ArrayLike<number>,
  squash: boolean,
): Float64Array {
  let activations = Float64Array.from(input);
  let offset = 0;
  for (let layer = 0; layer <= shape.hiddenLayers; layer++) {
    const last = layer === shape.hiddenLayers;
    const out = last ? shape.outputSize : shape.hiddenSize;
    const width = activations.length;
    const next = new Float64Array(out);
    for (let j = 0; j < out; j++) next[j] = parameters[offset + width * out + j];
    for (let i = 0; i < width; i++) {
      const a = activations[i];
      const row = offset + i * out;
      for (let j = 0; j < out; j++) next[j] += a * parameters[row + j];
    }
    offset += width * out + out;
    if (!last || squash) { for (let j = 0; j < out; j++) next[j] = Math.tanh(next[j]); }
    activations = next;
  }
  return activations;
}

/** Glorot-uniform weights and zero biases, the starting point of the search. */
export function initialMlpParameters(shape: MlpShape, rng: Rng): Float64Array {
  const parameters = new Float64Array(mlpParameterCount(shape));
  let offset = 0;
  let width = shape.inputSize;
  for (let layer = 0; layer <= shape.hiddenLayers; layer++) {
    const out = layer < shape.hiddenLayers ? shape.hiddenSize : shape.outputSize;
    const limit = Math.sqrt(6 / (width + out));
    for (let k = 0; k < width * out; k++) parameters[offset + k] = rng.uniform(-limit, limit);
    offset += width * out + out;
    width = out;
  }
  return parameters;
}

/** The network as a policy for `env`: the shape, and the action for given weights. */
export function mlpPolicy(env: Env, hiddenSize: number, hiddenLayers: number) {
  const discrete = env.actionSpec.kind === "discrete";
  const shape: MlpShape = {
    inputSize: env.observationSpec.shape[0],
    hiddenSize,
    hiddenLayers,
    outputSize: env.actionSpec.kind === "discrete" ? env.actionSpec.n : env.actionSpec.shape[0],
  };
  const act = (parameters: ArrayLike<number>, observation: Float32Array): Action => {
    const output = mlpForward(shape, parameters, observation, !discrete);
    if (!discrete) return Float32Array.from(output);
    let best = 0;
    for (let i = 1; i < output.length; i++) if (output[i] > output[best]) best = i;
    return best;
  };
  return { shape, act };
}

/** Runs one episode with `act`; its return and the steps it took. */
export function runPolicyEpisode(
  env: Env,
  act: (observation: Float32Array) => Action,
  seed: number,
  maxSteps = env.maxEpisodeSteps,
): { return: number; steps: number } {
  let observation = env.reset(seed);
  let total = 0;
  let steps = 0;
  while (steps < maxSteps) {
    const result = env.step(act(observation));
    steps++;
    total += result.reward;
    observation = result.observation;
    if (result.terminated || result.truncated) break;
  }
  return { return: total, steps };
}

export interface EvolutionSettings {
  method: "openai-es" | "cma-es";
  hiddenSize: number;
  hiddenLayers: number;
  /** Candidates per generation (even for OpenAI-ES). */
  populationSize: number;
  /** Episodes summed into each candidate's fitness. */
  episodesPerCandidate: number;
  /** OpenAI-ES's sigma, CMA-ES's initial sigma. */
  noiseStd: number;
  /** OpenAI-ES's Adam step size (unused by CMA-ES). */
  learningRate: number;
  weightDecay: number;
}

export interface EvolutionResult {
  /** The weights to deploy: OpenAI-ES's theta, CMA-ES's mean. */
  parameters: Float64Array;
  /** Per generation: env steps spent so far and the population's mean fitness. */
  curve: { steps: number; meanFitness: number }[];
  generations: number;
  environmentSteps: number;
}

/**
 * Evolves the policy within `environmentSteps` steps: a generation starts only when one more
 * generation as long as the last would still fit (the first always runs), so the steps spent
 * stay at or under the budget unless one generation alone exceeds it; they are reported.
 */
export async function evolvePolicy(
  env: Env,
  settings: EvolutionSettings,
  options: {
    environmentSteps: number;
    seed: number;
    onProgress?: (progress: Progress) => void;
  },
): Promise<EvolutionResult> {
  const rng = new Rng(options.seed);
  const { shape, act } = mlpPolicy(env, settings.hiddenSize, settings.hiddenLayers);
  const start = initialMlpParameters(shape, rng.fork());
  const dimension = start.length;
  const strategy = settings.method === "openai-es"
    ? new OpenAiEs({
      dimension,
      populationSize: settings.populationSize,
      noiseStd: settings.noiseStd,
      learningRate: settings.learningRate,
      weightDecay: settings.weightDecay,
      initialMean: start,
      rng: rng.fork(),
    })
    : new CmaEs({
      dimension,
      populationSize: settings.populationSize,
      initialSigma: settings.noiseStd,
      initialMean: start,
      maximize: true,
      rng: rng.fork(),
    });
  const curve: EvolutionResult["curve"] = [];
  let spent = 0;
  let generation = 0;
  let lastGenerationSteps = 0;
  while (generation === 0 || spent + lastGenerationSteps <= options.environmentSteps) {
    const spentBefore = spent;
    const candidates = strategy.ask();
    // Every candidate of a generation meets the same episode starts (common random numbers).
    const episodeSeeds = Array.from({ length: settings.episodesPerCandidate }, () => rng.seedInt());
    const fitnesses = candidates.map((candidate) => {
      let total = 0;
      for (const seed of episodeSeeds) {
        const episode = runPolicyEpisode(env, (o) => act(candidate, o), seed);
        total += episode.return;
        spent += episode.steps;
      }
      return total / settings.episodesPerCandidate;
    });
    if (strategy instanceof OpenAiEs) strategy.tell(fitnesses);
    else strategy.tell(candidates, fitnesses);
    generation++;
    lastGenerationSteps = spent - spentBefore;
    const meanFitness = fitnesses.reduce((a, b) => a + b, 0) / fitnesses.length;
    curve.push({ steps: spent, meanFitness });
    options.onProgress?.({
      stage: settings.method,
      done: Math.min(spent, options.environmentSteps),
      total: options.environmentSteps,
      message: `generation ${generation}, mean fitness ${meanFitness.toFixed(2)}`,
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return { parameters: strategy.mean, curve, generations: generation, environmentSteps: spent };
}
