/**
 * The experience dataset of PlaNet (Hafner et al. 2019, Section 3, Algorithm 1): whole episodes
 * are kept, and the model trains on batches of fixed-length chunks drawn uniformly from them
 * (the paper: B = 50 chunks of L = 50 steps).
 *
 * Step t of a stored episode holds the observation o_t, the action a_{t-1} that led to it and
 * the reward r_{t-1} received on the way (zeros at t = 0), the layout the RSSM reads. Episodes
 * are stored whole and never evicted (PlaNet keeps all its data), and the buffer serialises to
 * one binary file so an interrupted run resumes with every episode it had collected.
 */
import type { Rng } from "../rng.ts";

export interface Episode {
  /** [length * observationSize] */
  observations: Float32Array;
  /** [length * actionSize]; row 0 is zeros. */
  actions: Float32Array;
  /** [length]; entry 0 is 0. */
  rewards: Float32Array;
  length: number;
}

/** Chunks laid out batch-major: [batch, length, size] flattened. */
export interface ChunkBatch {
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  batchSize: number;
  chunkLength: number;
}

/** Builds one episode step by step in the buffer's layout. */
export class EpisodeRecorder {
  readonly #observations: number[] = [];
  readonly #actions: number[] = [];
  readonly #rewards: number[] = [];
  #length = 0;

  constructor(readonly observationSize: number, readonly actionSize: number) {}

  /** The first observation of the episode. */
  start(observation: ArrayLike<number>): void {
    if (this.#length !== 0) throw new Error("EpisodeRecorder.start called twice");
    this.#push(observation, new Float32Array(this.actionSize), 0);
  }

  /** The action taken, the reward it earned and the observation it led to. */
  record(action: ArrayLike<number>, reward: number, observation: ArrayLike<number>): void {
    if (this.#length === 0) throw new Error("EpisodeRecorder.record called before start");
    this.#push(observation, action, reward);
  }

  #push(observation: ArrayLike<number>, action: ArrayLike<number>, reward: number): void {
    if (observation.length !== this.observationSize || action.length !== this.actionSize) {
      throw new RangeError(
        `EpisodeRecorder: got an observation of ${observation.length} and an action of ` +
          `${action.length} numbers, expected ${this.observationSize} and ${this.actionSize}`,
      );
    }
    for (let i = 0; i < observation.length; i++) this.#observations.push(observation[i]);
    for (let i = 0; i < action.length; i++) this.#actions.push(action[i]);
    this.#rewards.push(reward);
    this.#length++;
  }

  get length(): number {
    return this.#length;
  }

  finish(): Episode {
    return {
      observations: Float32Array.from(this.#observations),
      actions: Float32Array.from(this.#actions),
      rewards: Float32Array.from(this.#rewards),
      length: this.#length,
    };
  }
}

const MAGIC = "PLANET-REPLAY-1";

export class SequenceReplay {
  readonly episodes: Episode[] = [];

  constructor(readonly observationSize: number, readonly actionSize: number) {}

  get numEpisodes(): number {
    return this.episodes.length;
  }

  /** Stored steps over all episodes. */
  get numSteps(): number {
    return this.episodes.reduce((sum, episode) => sum + episode.length, 0);
  }

  addEpisode(episode: Episode): void {
    const { length } = episode;
    if (
      episode.observations.length !== length * this.observationSize ||
      episode.actions.length !== length * this.actionSize || episode.rewards.length !== length
    ) {
      throw new RangeError("SequenceReplay.addEpisode: array sizes do not match the length");
    }
    this.episodes.push(episode);
  }

  /**
   * `batchSize` chunks of `chunkLength` consecutive steps, each start drawn uniformly over every
   * valid start in every episode long enough.
   */
  sample(batchSize: number, chunkLength: number, rng: Rng): ChunkBatch {
    const starts: number[] = [];
    let total = 0;
    for (const episode of this.episodes) {
      total += Math.max(0, episode.length - chunkLength + 1);
      starts.push(total);
    }
    if (total === 0) {
      throw new RangeError(
        `SequenceReplay.sample: no episode has ${chunkLength} steps (have ${this.numEpisodes})`,
      );
    }
    const { observationSize: obsSize, actionSize } = this;
    const observations = new Float32Array(batchSize * chunkLength * obsSize);
    const actions = new Float32Array(batchSize * chunkLength * actionSize);
    const rewards = new Float32Array(batchSize * chunkLength);
    for (let b = 0; b < batchSize; b++) {
      const draw = rng.int(total);
      let index = 0;
      while (starts[index] <= draw) index++;
      const episode = this.episodes[index];
      const start = draw - (index === 0 ? 0 : starts[index - 1]);
      observations.set(
        episode.observations.subarray(start * obsSize, (start + chunkLength) * obsSize),
        b * chunkLength * obsSize,
      );
      actions.set(
        episode.actions.subarray(start * actionSize, (start + chunkLength) * actionSize),
        b * chunkLength * actionSize,
      );
      rewards.set(episode.rewards.subarray(start, start + chunkLength), b * chunkLength);
    }
    return { observations, actions, rewards, batchSize, chunkLength };
  }

  /** One binary blob: a JSON header line, then every episode's arrays as float32. */
  serialize(): Uint8Array {
    const header = new TextEncoder().encode(
      JSON.stringify({
        magic: MAGIC,
        observationSize: this.observationSize,
        actionSize: this.actionSize,
        lengths: this.episodes.map((e) => e.length),
      }) + "\n",
    );
    const floats = this.episodes.reduce(
      (sum, e) => sum + e.observations.length + e.actions.length + e.rewards.length,
      0,
    );
    // Pad the header so the float data is 4-byte aligned.
    const headerBytes = Math.ceil(header.length / 4) * 4;
    const out = new Uint8Array(4 + headerBytes + 4 * floats);
    new DataView(out.buffer).setUint32(0, headerBytes, true);
    out.fill(0x20, 4, 4 + headerBytes);
    out.set(header, 4);
    const data = new Float32Array(out.buffer, 4 + headerBytes, floats);
    let offset = 0;
    for (const e of this.episodes) {
      for (const array of [e.observations, e.actions, e.rewards]) {
        data.set(array, offset);
        offset += array.length;
      }
    }
    return out;
  }

  /** Reads what `serialize` wrote; throws a RangeError saying what is wrong otherwise. */
  static deserialize(bytes: Uint8Array): SequenceReplay {
    if (bytes.length < 4) throw new RangeError("replay file is truncated");
    const copy = bytes.slice();
    const headerBytes = new DataView(copy.buffer).getUint32(0, true);
    if (4 + headerBytes > copy.length) throw new RangeError("replay file is truncated");
    let header: { magic: string; observationSize: number; actionSize: number; lengths: number[] };
    try {
      header = JSON.parse(new TextDecoder().decode(copy.subarray(4, 4 + headerBytes)));
    } catch {
      throw new RangeError("replay file has an unreadable header");
    }
    if (header.magic !== MAGIC) throw new RangeError("not a replay file");
    const { observationSize, actionSize, lengths } = header;
    const replay = new SequenceReplay(observationSize, actionSize);
    const floats = lengths.reduce((sum, n) => sum + n * (observationSize + actionSize + 1), 0);
    if (copy.length !== 4 + headerBytes + 4 * floats) {
      throw new RangeError(
        `replay file holds ${copy.length} bytes, its header promises ${
          4 + headerBytes + 4 * floats
        }`,
      );
    }
    const data = new Float32Array(copy.buffer, 4 + headerBytes, floats);
    let offset = 0;
    const take = (n: number) => data.slice(offset, offset += n);
    for (const length of lengths) {
      replay.addEpisode({
        observations: take(length * observationSize),
        actions: take(length * actionSize),
        rewards: take(length),
        length,
      });
    }
    return replay;
  }
}
