/**
 * The imagination strategies of the Imagination-based Planner (Pascanu et al. 2017,
 * arXiv:1707.06170, Section 2, Figure 2): from which state an imagination step starts. Nodes are
 * numbered in the order they were made: 0 is the real current state, k the state imagined at the
 * k-th step of this decision.
 *
 * - 1-step: always from the real state, so each imagined action is an alternative to the others.
 * - n-step: always from the latest imagined state (the real one at first), a chain of actions.
 * - tree: from any state imagined so far, or the real one: the manager (or chance) picks.
 */
import type { Rng } from "../rng.ts";

export const IMAGINATION_STRATEGIES = ["1-step", "n-step", "tree"] as const;
export type ImaginationStrategy = typeof IMAGINATION_STRATEGIES[number];

/**
 * The node an imagination step starts from when `nodeCount` nodes exist; for the tree without a
 * manager, a uniform choice drawn from `rng`.
 */
export function sourceNode(strategy: ImaginationStrategy, nodeCount: number, rng: Rng): number {
  if (!Number.isInteger(nodeCount) || nodeCount < 1) {
    throw new RangeError(`sourceNode: nodeCount must be a positive integer, got ${nodeCount}`);
  }
  switch (strategy) {
    case "1-step":
      return 0;
    case "n-step":
      return nodeCount - 1;
    case "tree":
      return rng.int(nodeCount);
  }
}

/**
 * Which strategy a free choice of `node` among `nodeCount` nodes looks like: the real state is a
 * 1-step choice, the latest imagined one an n-step choice, an earlier imagined one only a tree
 * makes. Null when no state has been imagined yet, so there was nothing to choose.
 */
export function classifyChoice(node: number, nodeCount: number): ImaginationStrategy | null {
  if (nodeCount <= 1) return null;
  if (node === 0) return "1-step";
  if (node === nodeCount - 1) return "n-step";
  return "tree";
}
