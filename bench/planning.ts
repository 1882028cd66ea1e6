/**
 * Bench section "planning": the wall-clock cost of one planning step of PlaNet (Hafner et al.
 * 2019, Section 2, "Planning algorithm") on this machine, with the recurrent state-space model of
 * the paper's size (GRU of 200 units, 30-d stochastic state, 200-unit prior and reward networks;
 * random weights, since speed does not depend on them).
 *
 * Rows: CEM at the paper's settings (horizon 12, 1000 candidates, top 100, 10 iterations), CEM at
 * a laptop setting (horizon 12, 300 candidates, top 30, 5 iterations), random shooting at the
 * laptop setting's number of model evaluations, the laptop setting with the smaller RSSM the
 * laptop budget trains (what one decision costs in those runs), and the paper's CEM with a model
 * that only sums the actions: the planner's own cost (sampling, top-K, refit) apart from the
 * model's.
 *
 *   deno run -A bench/planning.ts            all rows, 3 timed repeats each
 *   deno run -A bench/planning.ts --quick    one timed repeat each
 */
import { tf } from "../lib/tensor/mod.ts";
import { Rng } from "../lib/rng.ts";
import { type CemOptions, cemPlan, PLANET_CEM_SETTINGS } from "../lib/planners/cem.ts";
import { randomShootingPlan } from "../lib/planners/random_shooting.ts";
import { PLANET_RSSM_SIZES, Rssm, type RssmState } from "../lib/models/rssm.ts";
import type { ImaginationModel } from "../lib/planners/types.ts";
import { LAPTOP_MODEL } from "../lib/experiments/planet/config.ts";

export interface PlanningBenchRow {
  setting: string;
  planningHorizon: number;
  candidates: number;
  iterations: number;
  /** Action sequences the model rolled out per planning step. */
  modelEvaluations: number;
  /** Median over the timed repeats. */
  msPerStep: number;
  minMsPerStep: number;
  /** Imagined latent transitions per second (evaluations x horizon / time). */
  transitionsPerSecond: number;
}

export interface PlanningBenchOptions {
  /** One timed repeat per row instead of three (default false). */
  quick?: boolean;
  /** Timed repeats per row after one untimed warm-up (default 3, or 1 when quick). */
  repeats?: number;
  /** Prints the table (default true). */
  print?: boolean;
}

/** The laptop setting of the PlaNet experiments: a third of the candidates, half the refits. */
export const LAPTOP_CEM_SETTINGS: Omit<CemOptions, "actionSize"> = {
  ...PLANET_CEM_SETTINGS,
  candidates: 300,
  elites: 30,
  iterations: 5,
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function run(options: PlanningBenchOptions = {}): Promise<PlanningBenchRow[]> {
  const repeats = options.repeats ?? (options.quick ? 1 : 3);
  // Cart-pole swing-up sizes: one action, a five-number state observation.
  const actionSize = 1;
  const model = new Rssm({
    ...PLANET_RSSM_SIZES,
    observation: { kind: "vector", size: 5 },
    actionSize,
  }, new Rng(0));
  // The model the laptop budget's swing-up runs actually plan with (GRU 64, 16 stochastic).
  const laptopModel = new Rssm({
    ...LAPTOP_MODEL,
    observation: { kind: "vector", size: 5 },
    actionSize,
  }, new Rng(0));
  const state: RssmState = model.initialState(1);
  const laptopState: RssmState = laptopModel.initialState(1);
  const rng = new Rng(1);
  const laptopEvaluations = LAPTOP_CEM_SETTINGS.candidates * LAPTOP_CEM_SETTINGS.iterations;
  const summing: ImaginationModel<RssmState> = {
    imagine: (_state, actions) => tf.sum(actions, [1, 2]) as tf.Tensor1D,
  };
  const settings: {
    setting: string;
    options: CemOptions;
    shooting?: boolean;
    plannerOnly?: boolean;
    laptopModel?: boolean;
  }[] = [
    { setting: "CEM, paper (H12 J1000 K100 I10)", options: { ...PLANET_CEM_SETTINGS, actionSize } },
    { setting: "CEM, laptop (H12 J300 K30 I5)", options: { ...LAPTOP_CEM_SETTINGS, actionSize } },
    {
      setting: `random shooting, ${laptopEvaluations} candidates (H12)`,
      options: { ...LAPTOP_CEM_SETTINGS, actionSize, candidates: laptopEvaluations, iterations: 1 },
      shooting: true,
    },
    {
      setting: "CEM, laptop, laptop RSSM (64+16)",
      options: { ...LAPTOP_CEM_SETTINGS, actionSize },
      laptopModel: true,
    },
    {
      setting: "CEM, paper, planner alone (no model)",
      options: { ...PLANET_CEM_SETTINGS, actionSize },
      plannerOnly: true,
    },
  ];
  const rows: PlanningBenchRow[] = [];
  try {
    for (
      const { setting, options: planner, shooting, plannerOnly, laptopModel: small } of settings
    ) {
      const imagination = plannerOnly ? summing : small ? laptopModel : model;
      const start = small ? laptopState : state;
      const step = () =>
        shooting
          ? randomShootingPlan(imagination, start, planner, rng)
          : cemPlan(imagination, start, planner, rng);
      step(); // warm-up: kernels compiled, buffers sized
      const times: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const started = performance.now();
        step();
        times.push(performance.now() - started);
        // Let a progress display redraw between long steps.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const modelEvaluations = planner.candidates * planner.iterations;
      const msPerStep = median(times);
      rows.push({
        setting,
        planningHorizon: planner.planningHorizon,
        candidates: planner.candidates,
        iterations: planner.iterations,
        modelEvaluations,
        msPerStep,
        minMsPerStep: Math.min(...times),
        transitionsPerSecond: (modelEvaluations * planner.planningHorizon) / (msPerStep / 1000),
      });
    }
  } finally {
    tf.dispose([state.deterministic, state.stochastic]);
    tf.dispose([laptopState.deterministic, laptopState.stochastic]);
    model.dispose();
    laptopModel.dispose();
  }
  if (options.print ?? true) {
    console.log(
      `planning (backend ${tf.getBackend()}, RSSM 200+30 unless said, median of ${repeats}):`,
    );
    for (const row of rows) {
      console.log(
        `  ${row.setting.padEnd(42)} ${row.msPerStep.toFixed(0).padStart(7)} ms/step  ` +
          `${(row.transitionsPerSecond / 1000).toFixed(0).padStart(5)}k latent steps/s`,
      );
    }
  }
  return rows;
}

/** The section the bench harness (bench/main.ts) runs. */
export const planningSection = { name: "planning", run };

if (import.meta.main) await run({ quick: Deno.args.includes("--quick") });
