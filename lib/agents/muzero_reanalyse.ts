/**
 * MuZero Reanalyse (Schrittwieser et al. 2020, "Mastering Atari, Go, chess and shogi by planning
 * with a learned model", Appendix H "Reanalyze"): stored positions are searched again with the
 * latest network and their policy targets and search values replaced, so old games teach what
 * today's network would do there. EfficientZero's off-policy correction (Ye et al. 2021, Section
 * 4.3) searches the positions its value targets bootstrap from with the same machinery.
 */
import type { Rng } from "../rng.ts";
import type { MuZeroConfig } from "./muzero.ts";
import type { GameRecord, MuZeroReplay } from "./muzero_replay.ts";
import type { SearchPlayer } from "./muzero_play.ts";

/** A stored position: a game and a move number in it. */
export interface StoredPosition {
  record: GameRecord;
  t: number;
}

/**
 * Searches stored positions in batches of `batchSize` (no noise, the visit counts as they come)
 * and writes each root's value into the game's `rootValues`, and its visit distribution into
 * `policies` when `writePolicies` is set.
 */
export function searchStoredPositions(
  player: SearchPlayer<Float32Array>,
  positions: readonly StoredPosition[],
  batchSize: number,
  rng: Rng,
  writePolicies: boolean,
): void {
  const { numActions } = player.model;
  const observationSize = positions[0]?.record.finalObservation.length ?? 0;
  const observations = new Float32Array(batchSize * observationSize);
  const masks = new Uint8Array(batchSize * numActions);
  for (let start = 0; start < positions.length; start += batchSize) {
    const part = positions.slice(start, start + batchSize);
    part.forEach(({ record, t }, row) => {
      observations.set(
        record.observations.subarray(t * observationSize, (t + 1) * observationSize),
        row * observationSize,
      );
      masks.set(record.legalMasks.subarray(t * numActions, (t + 1) * numActions), row * numActions);
    });
    const { result } = player.search(
      observations.subarray(0, part.length * observationSize),
      masks.subarray(0, part.length * numActions),
      part.length,
      { rng, addNoise: false, temperature: 0 },
    );
    part.forEach(({ record, t }, row) => {
      if (writePolicies) {
        record.policies.set(
          result.searchPolicy.subarray(row * numActions, (row + 1) * numActions),
          t * numActions,
        );
      }
      record.rootValues[t] = result.rootValues[row];
    });
  }
}

/**
 * Reanalyse: searches up to `positionsPerIteration` stored positions again with the latest
 * network, from game `cursor` on (the oldest first, wrapping around), and replaces their policy
 * targets and search values; a cut episode's bootstrap value is refreshed too. Returns where to
 * continue next time and how many positions were searched.
 */
export function reanalyse(
  replay: MuZeroReplay,
  player: SearchPlayer<Float32Array>,
  settings: MuZeroConfig["reanalyse"],
  cursor: number,
  rng: Rng,
): { cursor: number; positions: number } {
  const budget = settings.positionsPerIteration;
  if (budget === 0 || replay.numGames === 0) return { cursor, positions: 0 };
  const games = replay.games();
  // Start at the first stored game at or after the cursor (older ones may have left).
  let index = games.findIndex((g) => g.id >= cursor);
  if (index < 0) index = 0;
  const chosen: { id: number; record: GameRecord }[] = [];
  let positions = 0;
  for (let visited = 0; visited < games.length && positions < budget; visited++) {
    const game = games[(index + visited) % games.length];
    chosen.push(game);
    positions += game.record.length;
  }
  const nextCursor = games[(index + chosen.length) % games.length].id;
  // Every position of the chosen games.
  const rows: StoredPosition[] = [];
  for (const { record } of chosen) for (let t = 0; t < record.length; t++) rows.push({ record, t });
  searchStoredPositions(player, rows, settings.batchSize, rng, true);
  for (const { id, record } of chosen) {
    if (!record.terminated) {
      record.finalValue = player.model.initialInference(record.finalObservation, 1).values[0];
    }
    replay.refreshPriorities(id);
  }
  return { cursor: nextCursor, positions: rows.length };
}
