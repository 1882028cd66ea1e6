/**
 * Dreamer's experience dataset (Hafner et al. 2020, "Dream to Control", Algorithm 1, and DreamerV2,
 * Hafner et al. 2021, "Mastering Atari with Discrete World Models", Section 2.1): whole episodes,
 * from which the world model trains on batches of fixed-length chunks.
 *
 * Two things set it apart from PlaNet's buffer, which it builds on for storage: each episode
 * records whether the task ended it (a terminal state: the discount predictor learns from these)
 * or a time limit cut it; and episodes shorter than a chunk still train the model, their chunks
 * padded with zeros past the episode's end under a mask of zeros (games like MinAtar's Breakout
 * end after a dozen steps under a random policy, and those endings are what the model must learn).
 * A chunk starts uniformly at random among every start that keeps it inside its episode (the
 * episode's first step for episodes shorter than a chunk).
 */
import type { Rng } from "../rng.ts";
import { type ChunkBatch, type Episode, SequenceReplay } from "./sequence_replay.ts";

/** A chunk batch with the flags the continuation head and the padding need, [batch, length]. */
export interface DreamerChunkBatch extends ChunkBatch {
  /** 0 where the step is the terminal state of an episode the task ended, else 1. */
  continues: Float32Array;
  /** 1 for steps of an episode, 0 for padding past its end. */
  mask: Float32Array;
}

const MAGIC = "DREAMER-REPLAY-1";

export class DreamerReplay {
  readonly sequences: SequenceReplay;
  /** Per episode: whether it ended in a terminal state (else a time limit cut it). */
  readonly terminated: boolean[] = [];

  constructor(readonly observationSize: number, readonly actionSize: number) {
    this.sequences = new SequenceReplay(observationSize, actionSize);
  }

  get episodes(): Episode[] {
    return this.sequences.episodes;
  }

  get numEpisodes(): number {
    return this.sequences.numEpisodes;
  }

  get numSteps(): number {
    return this.sequences.numSteps;
  }

  addEpisode(episode: Episode, terminated: boolean): void {
    this.sequences.addEpisode(episode);
    this.terminated.push(terminated);
  }

  /** Keeps the first `count` episodes (a resumed run drops those of an unfinished round). */
  truncate(count: number): void {
    this.sequences.episodes.length = Math.min(count, this.numEpisodes);
    this.terminated.length = Math.min(count, this.terminated.length);
  }

  /** `batchSize` chunks of `chunkLength` steps, padded past the end of short episodes. */
  sample(batchSize: number, chunkLength: number, rng: Rng): DreamerChunkBatch {
    const episodes = this.episodes;
    if (episodes.length === 0) throw new RangeError("DreamerReplay.sample: the replay is empty");
    const cumulative: number[] = [];
    let total = 0;
    for (const episode of episodes) {
      total += Math.max(1, episode.length - chunkLength + 1);
      cumulative.push(total);
    }
    const { observationSize, actionSize } = this;
    const observations = new Float32Array(batchSize * chunkLength * observationSize);
    const actions = new Float32Array(batchSize * chunkLength * actionSize);
    const rewards = new Float32Array(batchSize * chunkLength);
    const continues = new Float32Array(batchSize * chunkLength);
    const mask = new Float32Array(batchSize * chunkLength);
    for (let b = 0; b < batchSize; b++) {
      const draw = rng.int(total);
      let index = 0;
      while (cumulative[index] <= draw) index++;
      const episode = episodes[index];
      const start = draw - (index === 0 ? 0 : cumulative[index - 1]);
      const steps = Math.min(chunkLength, episode.length - start);
      const row = b * chunkLength;
      observations.set(
        episode.observations.subarray(start * observationSize, (start + steps) * observationSize),
        row * observationSize,
      );
      actions.set(
        episode.actions.subarray(start * actionSize, (start + steps) * actionSize),
        row * actionSize,
      );
      rewards.set(episode.rewards.subarray(start, start + steps), row);
      continues.fill(1, row, row + steps);
      mask.fill(1, row, row + steps);
      if (this.terminated[index] && start + steps === episode.length) {
        continues[row + steps - 1] = 0;
      }
    }
    return { observations, actions, rewards, continues, mask, batchSize, chunkLength };
  }

  /** One binary blob: the episode-end flags as a JSON header, then PlaNet's replay format. */
  serialize(): Uint8Array {
    const header = new TextEncoder().encode(
      JSON.stringify({ magic: MAGIC, terminated: this.terminated }) + "\n",
    );
    const body = this.sequences.serialize();
    const out = new Uint8Array(4 + header.length + body.length);
    new DataView(out.buffer).setUint32(0, header.length, true);
    out.set(header, 4);
    out.set(body, 4 + header.length);
    return out;
  }

  /** Reads what `serialize` wrote; throws a RangeError saying what is wrong otherwise. */
  static deserialize(bytes: Uint8Array): DreamerReplay {
    if (bytes.length < 4) throw new RangeError("replay file is truncated");
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
    if (4 + headerLength > bytes.length) throw new RangeError("replay file is truncated");
    let header: { magic: string; terminated: boolean[] };
    try {
      header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength)));
    } catch {
      throw new RangeError("replay file has an unreadable header");
    }
    if (header.magic !== MAGIC) throw new RangeError("not a Dreamer replay file");
    const sequences = SequenceReplay.deserialize(bytes.subarray(4 + headerLength));
    if (sequences.numEpisodes !== header.terminated.length) {
      throw new RangeError(
        `replay file lists ${header.terminated.length} episode ends for ` +
          `${sequences.numEpisodes} episodes`,
      );
    }
    const replay = new DreamerReplay(sequences.observationSize, sequences.actionSize);
    sequences.episodes.forEach((episode, i) => replay.addEpisode(episode, header.terminated[i]));
    return replay;
  }
}
