/**
 * Reading back an interrupted training run (PlaNet, Dreamer, MuZero): its progress file, checked
 * against this run's config hash, and its replay buffer. Each loop then restores its own
 * networks and counters; every failure here is one line saying what to delete.
 */
import { UserError } from "../errors.ts";
import { readJsonIfExists } from "../io.ts";

/** The progress file and replay of a saved run, or null when `progress` does not exist yet. */
export async function readRunProgress<Progress extends { configHash: string }, Replay>(
  files: { progress: string; replay: string },
  configHash: string,
  dataDir: string,
  deserializeReplay: (bytes: Uint8Array) => Replay,
): Promise<{ saved: Progress; replay: Replay } | null> {
  const saved = await readJsonIfExists<Progress>(files.progress).catch(() => {
    throw new UserError(`${files.progress} is corrupt; delete it to start this run afresh`);
  });
  if (!saved) return null;
  if (saved.configHash !== configHash) {
    throw new UserError(
      `${files.progress} was written for another config (hash ${saved.configHash}, this ` +
        `run ${configHash}); delete ${dataDir} or choose another dataDir`,
    );
  }
  try {
    return { saved, replay: deserializeReplay(await Deno.readFile(files.replay)) };
  } catch (error) {
    throw new UserError(`replay file ${files.replay}: ${(error as Error).message}`);
  }
}
