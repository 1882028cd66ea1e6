/**
 * Bench section "mcts": simulations per second of MuZero's search (Schrittwieser et al. 2020,
 * Appendix B) on one core, at the paper's 800 simulations for board games, for batches of 1, 16
 * and 64 roots.
 *
 * Rows with the true tic-tac-toe rules as the model (lib/planners/rules_model.ts, value 0)
 * measure the search plus a model that costs almost nothing; the row with a constant model (fixed
 * logits and value, no rules) is the search's own overhead. The rows with MuZero's tic-tac-toe
 * network (the muzero-tictactoe laptop budget's MLP, lib/models/muzero.ts) are the real thing:
 * one batched network call per simulation, against the target of at least 20,000 simulations per
 * second for 64 roots on 2 cores. Roots are seeded positions after 0 to 3 random moves.
 *
 *   deno run -A bench/mcts.ts            5 timed measurements per row
 *   deno run -A bench/mcts.ts --quick    2 timed measurements per row
 */
import {
  type InferenceOutput,
  MUZERO_BOARD_GAME_SETTINGS,
  type MuZeroModel,
  MuZeroSearch,
} from "../lib/planners/mcts.ts";
import { TrueRulesModel } from "../lib/planners/rules_model.ts";
import { legalMoves, play, TIC_TAC_TOE, type TicTacToeState } from "../lib/envs/tictactoe.ts";
import { Rng } from "../lib/rng.ts";
import { makeMuZeroNetwork } from "../lib/agents/muzero.ts";
import { BoardGameEnvironment } from "../lib/agents/muzero_play.ts";
import { ticTacToeBudgets } from "../lib/experiments/muzero/tictactoe.ts";

/** What a batch of 64 roots must reach with the tic-tac-toe network (issue 11). */
export const NETWORK_TARGET_SIMULATIONS_PER_SECOND = 20_000;

export interface MctsBenchRow {
  model: string;
  roots: number;
  numSimulations: number;
  /** Median over the timed measurements. */
  simulationsPerSecond: number;
  /** One search of the whole batch, median. */
  msPerSearch: number;
  /** Calls of recurrentInference per search (fewer than simulations once games end in the tree). */
  modelCalls: number;
}

export interface MctsBenchOptions {
  /** Two timed measurements per row instead of five (default false). */
  quick?: boolean;
  /** Prints the table (default true). */
  print?: boolean;
}

/** A model with no rules: every state has the same latent, uniform logits and value 0. */
class ConstantModel implements MuZeroModel<null> {
  readonly numActions = 9;
  readonly latentSize = 1;
  #outputs = new Map<number, InferenceOutput>();

  initialInference(_observations: null, batchSize: number): InferenceOutput {
    return this.#output(batchSize);
  }

  recurrentInference(_parentLatents: Float32Array, actions: Int32Array): InferenceOutput {
    return this.#output(actions.length);
  }

  #output(batch: number): InferenceOutput {
    let output = this.#outputs.get(batch);
    if (!output) {
      output = {
        latents: new Float32Array(batch),
        rewards: new Float32Array(batch),
        values: new Float32Array(batch),
        policyLogits: new Float32Array(batch * this.numActions),
      };
      this.#outputs.set(batch, output);
    }
    return output;
  }
}

function randomOpenings(count: number, rng: Rng): TicTacToeState[] {
  return Array.from({ length: count }, () => {
    let state = 0;
    const moves = rng.int(4);
    for (let i = 0; i < moves; i++) state = play(state, rng.choice(legalMoves(state)));
    return state;
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function run(options: MctsBenchOptions = {}): Promise<MctsBenchRow[]> {
  const measurements = options.quick ? 2 : 5;
  const numSimulations = MUZERO_BOARD_GAME_SETTINGS.numSimulations;
  const config = { ...MUZERO_BOARD_GAME_SETTINGS, numSimulations, dirichletAlpha: 1 };
  const settings = [
    { model: "tic-tac-toe rules", roots: 1 },
    { model: "tic-tac-toe rules", roots: 16 },
    { model: "tic-tac-toe rules", roots: 64 },
    { model: "constant (search alone)", roots: 64 },
    { model: "tic-tac-toe network", roots: 1 },
    { model: "tic-tac-toe network", roots: 64 },
  ];
  const environment = new BoardGameEnvironment(TIC_TAC_TOE);
  const network = makeMuZeroNetwork(ticTacToeBudgets.laptop.agent, environment, 0);
  const rows: MctsBenchRow[] = [];
  for (const { model, roots } of settings) {
    const rng = new Rng(roots);
    const states = randomOpenings(roots, rng);
    const legal = new Uint8Array(roots * 9);
    states.forEach((state, i) => TIC_TAC_TOE.writeLegalMask(state, legal, 9 * i));
    const observations = new Float32Array(roots * environment.observationSize);
    states.forEach((state, i) =>
      TIC_TAC_TOE.observe(state, observations.subarray(i * environment.observationSize))
    );
    const searchOnce = model === "tic-tac-toe rules"
      ? (() => {
        const search = new MuZeroSearch(new TrueRulesModel(TIC_TAC_TOE), config);
        return () => search.run(states, roots, { rng, legalActions: legal });
      })()
      : model === "tic-tac-toe network"
      ? (() => {
        const search = new MuZeroSearch(network, config);
        return () => search.run(observations, roots, { rng, legalActions: legal });
      })()
      : (() => {
        const search = new MuZeroSearch(new ConstantModel(), config);
        return () => search.run(null, roots, { rng, legalActions: legal });
      })();
    const modelCalls = searchOnce().modelCalls; // warm-up
    // Each measurement covers at least 64 roots' worth of simulations.
    const searchesPerMeasurement = Math.ceil(64 / roots);
    const times: number[] = [];
    for (let m = 0; m < measurements; m++) {
      const started = performance.now();
      for (let i = 0; i < searchesPerMeasurement; i++) searchOnce();
      times.push((performance.now() - started) / searchesPerMeasurement);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const msPerSearch = median(times);
    rows.push({
      model,
      roots,
      numSimulations,
      simulationsPerSecond: (roots * numSimulations) / (msPerSearch / 1000),
      msPerSearch,
      modelCalls,
    });
  }
  network.dispose();
  if (options.print ?? true) {
    console.log(`MuZero search, ${numSimulations} simulations, median of ${measurements}:`);
    for (const row of rows) {
      console.log(
        `  ${row.model.padEnd(24)} ${String(row.roots).padStart(3)} roots  ` +
          `${(row.simulationsPerSecond / 1000).toFixed(0).padStart(6)}k simulations/s  ` +
          `${row.msPerSearch.toFixed(2).padStart(7)} ms/search`,
      );
    }
    const networkRow = rows.find((r) => r.model === "tic-tac-toe network" && r.roots === 64)!;
    console.log(
      `  target for 64 roots with the network: ${NETWORK_TARGET_SIMULATIONS_PER_SECOND / 1000}k ` +
        `simulations/s: ${
          networkRow.simulationsPerSecond >= NETWORK_TARGET_SIMULATIONS_PER_SECOND
            ? "met"
            : "missed"
        }`,
    );
  }
  return rows;
}

/** The section the bench harness (bench/main.ts) runs. */
export const mctsSection = { name: "mcts", run };

if (import.meta.main) await run({ quick: Deno.args.includes("--quick") });
