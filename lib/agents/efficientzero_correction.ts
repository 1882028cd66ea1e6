/**
 * EfficientZero's fresh bootstrap values (Ye et al. 2021, "Mastering Atari Games with Limited
 * Data", Section 4.3 "Model-Based Off-Policy Correction"): the value a sampled target bootstraps
 * from, at position t + k + l, is the root value of a new search of that position with the
 * latest model, made when the sample is drawn, rather than the value the search gave when the
 * game was played (or last reanalysed). The search is Reanalyse's (lib/agents/muzero_reanalyse.ts);
 * only root values are replaced, so the policy targets stay what Reanalyse made them.
 */
import type { Rng } from "../rng.ts";
import type { MuZeroBatch, MuZeroReplay } from "./muzero_replay.ts";
import type { SearchPlayer } from "./muzero_play.ts";
import { searchStoredPositions, type StoredPosition } from "./muzero_reanalyse.ts";

/**
 * Searches every distinct position the batch's value targets bootstrap from, writes the new root
 * values into the stored games and recomputes the batch's value targets. Returns how many
 * positions were searched.
 */
export function refreshBootstrapValues(
  replay: MuZeroReplay,
  batch: MuZeroBatch,
  player: SearchPlayer<Float32Array>,
  searchBatchSize: number,
  rng: Rng,
): number {
  const steps = batch.unrollSteps + 1;
  const seen = new Set<string>();
  const positions: StoredPosition[] = [];
  for (let row = 0; row < batch.size; row++) {
    const record = replay.game(batch.gameIds[row]);
    if (!record) continue;
    for (let k = 0; k < steps; k++) {
      if (!batch.valueMask[row * steps + k]) continue;
      const bootstrap = batch.positions[row] + k + batch.tdSteps[row];
      if (bootstrap >= record.length) continue;
      const key = `${batch.gameIds[row]}:${bootstrap}`;
      if (seen.has(key)) continue;
      seen.add(key);
      positions.push({ record, t: bootstrap });
    }
  }
  if (positions.length > 0) {
    searchStoredPositions(player, positions, searchBatchSize, rng, false);
    replay.refillValueTargets(batch);
  }
  return positions.length;
}
