/**
 * The claim of `imagination-based-planner`, with its rule fixed before any run at the laptop
 * budget.
 *
 * Return is minus the real loss (distance to the target plus fuel), averaged over the held-out
 * layouts for each seed. The spread is the largest standard deviation over seeds of those
 * per-seed returns, across all the imagination budgets. The claim holds when the mean return at
 * the largest budget exceeds the mean return at 0 steps by more than the spread, and each budget's
 * mean return is at least the previous (smaller) budget's less the spread (non-decreasing within
 * spread).
 */
import { formatMeanStd, mean, std } from "../stats.ts";
import type { Claim } from "../types.ts";
import type { ImaginationPlannerMetrics } from "./config.ts";

/** The study notes, on the talk about the paper. */
export const NOTES_QUOTE = "Instead of going to an algorithm like MCTS the model learns how to " +
  "prioritize the planning steps (budget, depth and breath)";
/** The paper's abstract (Pascanu et al. 2017). */
export const PAPER_QUOTE = "Before any action, it can perform a variable number of imagination " +
  "steps, which involve proposing an imagined action and evaluating it with its model-based " +
  "imagination. ... We show that our architecture can learn to solve a challenging continuous " +
  "control problem";

/** Per budget, the per-seed mean returns. */
export function returnsByBudget(metrics: ImaginationPlannerMetrics): number[][] {
  return metrics.imaginationSteps.map((_, b) => metrics.seeds.map((s) => -s.budgets[b].meanLoss));
}

export function imaginationPlannerClaims(metrics: ImaginationPlannerMetrics): Claim[] {
  const returns = returnsByBudget(metrics);
  const means = returns.map((r) => mean(r));
  const spread = Math.max(...returns.map((r) => std(r)));
  const first = means[0];
  const last = means[means.length - 1];
  const rises = last - first > spread;
  const monotone = means.every((m, i) => i === 0 || m >= means[i - 1] - spread);
  const steps = metrics.imaginationSteps;
  return [{
    id: "return-rises-with-imagination",
    quote: PAPER_QUOTE,
    paper: "the agent solves the spaceship task by imagining before it acts (the paper's " +
      "figures of loss against imagination steps could not be checked here). Our bar, fixed " +
      `in advance: mean held-out return at ${steps[steps.length - 1]} steps above ${steps[0]} ` +
      "steps by more than the spread over seeds, and non-decreasing within that spread across " +
      `${steps.join(", ")} steps`,
    ours: `return over ${metrics.evaluationEpisodes} held-out layouts, ${metrics.budgetStrategy} ` +
      "imagination: " + steps.map((k, b) =>
        `${k} steps ${formatMeanStd(returns[b], 3)}`
      ).join(", ") +
      `; spread ${spread.toFixed(3)}`,
    holds: rises && monotone,
  }];
}
