/**
 * The claims of `es-vs-rl-sparse`, with the rules that decide them written beside them.
 *
 * Every learner is judged by the task's goal score (tasks.ts), whatever reward it trained on, so
 * a dense and a sparse run are compared on the same scale. Per task and reward, "ES" is OpenAI-ES
 * (Salimans et al. 2017, the strategy Milano & Nolfi use), "RL" the better of PPO and SAC (the
 * stronger baseline, to be fair to RL), both the mean over seeds. The ratio ES / RL is taken with
 * 0.01 added to both scores, so a learner that never reaches the goal gives a finite ratio.
 * The paper's claim holds on a task when the ratio is larger with the sparse reward than with
 * the dense one: sparsity costs RL more than ES.
 */
import type { Claim } from "../types.ts";
import { formatMeanStd, mean } from "../stats.ts";
import type { EsVsRlMetrics, Method } from "./config.ts";
import { RL_METHODS } from "./config.ts";
import type { RewardKind, TaskName } from "./tasks.ts";

export const SCORE_OFFSET = 0.01;

export const PAPER_QUOTE = "EAs do not suffer from the sparsity of the reward since they operate " +
  "on the basis of a fitness measure that encodes the sum of the rewards collected during " +
  "evaluation episodes. RLs instead ... struggle with temporal credit assignment when rewards " +
  "are sparse (the study notes, quoting Milano & Nolfi 2022)";

/** What the paper ran and found, quoted beside ours. */
export const PAPER_FINDINGS = "Milano & Nolfi 2022 compare OpenAI-ES with PPO (and other RL " +
  "algorithms) on benchmark control problems for, among other things, their ability to cope with " +
  "rewards sparse in time and their dependence on reward shaping, and find that the reward " +
  "function's characteristics affect the two families in qualitatively different ways";

export function scoresOf(
  metrics: EsVsRlMetrics,
  task: TaskName,
  reward: RewardKind,
  method: Method,
): number[] {
  return metrics.runs
    .filter((r) => r.task === task && r.reward === reward && r.method === method)
    .map((r) => r.result.score);
}

/** The better RL learner's mean score and its name; null when no RL learner ran. */
export function bestRl(
  metrics: EsVsRlMetrics,
  task: TaskName,
  reward: RewardKind,
): { method: Method; score: number } | null {
  let best: { method: Method; score: number } | null = null;
  for (const method of RL_METHODS) {
    const scores = scoresOf(metrics, task, reward, method);
    if (scores.length === 0) continue;
    const score = mean(scores);
    if (!best || score > best.score) best = { method, score };
  }
  return best;
}

/** (ES + 0.01) / (RL + 0.01) on one task and reward, or null when either side did not run. */
export function esToRlRatio(
  metrics: EsVsRlMetrics,
  task: TaskName,
  reward: RewardKind,
): number | null {
  const es = scoresOf(metrics, task, reward, "openai-es");
  const rl = bestRl(metrics, task, reward);
  if (es.length === 0 || !rl) return null;
  return (mean(es) + SCORE_OFFSET) / (rl.score + SCORE_OFFSET);
}

export function esVsRlClaims(metrics: EsVsRlMetrics, tasks: readonly TaskName[]): Claim[] {
  const claims: Claim[] = [];
  let favoured = 0, decided = 0;
  for (const task of tasks) {
    const dense = esToRlRatio(metrics, task, "dense");
    const sparse = esToRlRatio(metrics, task, "sparse");
    if (dense === null || sparse === null) continue;
    decided++;
    const holds = sparse > dense;
    if (holds) favoured++;
    const describe = (reward: RewardKind) => {
      const rl = bestRl(metrics, task, reward)!;
      return `${reward}: ES ${formatMeanStd(scoresOf(metrics, task, reward, "openai-es"), 2)}` +
        ` vs ${rl.method.toUpperCase()} ${
          formatMeanStd(scoresOf(metrics, task, reward, rl.method), 2)
        }, ratio ${(reward === "dense" ? dense : sparse).toFixed(2)}`;
    };
    claims.push({
      id: `sparse-favours-es-${task}`,
      quote: PAPER_QUOTE,
      paper: PAPER_FINDINGS,
      ours: `${task}, goal score at ${metrics.environmentSteps} steps — ${describe("dense")}; ` +
        `${describe("sparse")}`,
      holds,
    });
  }
  if (decided > 0) {
    claims.push({
      id: "sparse-favours-es",
      quote: PAPER_QUOTE,
      paper: "ES's advantage over RL grows when the reward is sparse",
      ours: `the ES / RL ratio is larger with the sparse reward on ${favoured} of ${decided} ` +
        `task(s)`,
      holds: favoured * 2 > decided,
    });
  }
  return claims;
}
