/**
 * Stage files of the World Models experiments (Ha & Schmidhuber 2018): each stage (rollouts, V,
 * z sequences, M, C) is saved under the run's data folder as it ends, as a binary file of named
 * arrays and a JSON manifest holding the hash of the config fields the stage depends on (model
 * weights as lib/tensor/checkpoint.ts checkpoints with those fields in their metadata). A rerun
 * loads a finished stage instead of redoing it; a file from another config, or a truncated or
 * corrupt one, is refused with a one-line `UserError` naming the file, never silently used.
 */
import { UserError } from "../../errors.ts";
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from "../../io.ts";
import type { ParameterSet } from "../../models/nn.ts";
import { checkpointExists, loadCheckpoint, saveCheckpoint } from "../../tensor/checkpoint.ts";

type StoredArray = Float32Array | Uint8Array | Int32Array;
const DTYPES = { float32: Float32Array, uint8: Uint8Array, int32: Int32Array } as const;
type DtypeName = keyof typeof DTYPES;

interface Manifest {
  stage: string;
  format: 1;
  /** Hash of `fields`. */
  hash: string;
  /** The config fields this stage depends on, kept readable to name what differs. */
  fields: Record<string, unknown>;
  arrays: { name: string; dtype: DtypeName; length: number }[];
  meta: Record<string, unknown>;
}

/** JSON with sorted keys, so equal configs hash equally. */
function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value as object).sort();
    return `{${
      keys.map((k) =>
        `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`
      ).join(",")
    }}`;
  }
  return JSON.stringify(value);
}

/** FNV-1a 64-bit (as two 32-bit halves) of the stable JSON: enough to tell configs apart. */
export function hashFields(fields: Record<string, unknown>): string {
  const text = stableStringify(fields);
  let h1 = 0x811c9dc5, h2 = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x01000193 ^ 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0");
}

/** The dotted paths of the fields whose values differ, as deep as both sides are objects. */
function differingFields(a: unknown, b: unknown, prefix = ""): string[] {
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  if (!isRecord(a) || !isRecord(b)) {
    return stableStringify(a) === stableStringify(b) ? [] : [prefix || "(value)"];
  }
  return Object.keys({ ...a, ...b }).flatMap((key) =>
    differingFields(a[key], b[key], prefix ? `${prefix}.${key}` : key)
  );
}

function dtypeOf(array: StoredArray): DtypeName {
  if (array instanceof Float32Array) return "float32";
  if (array instanceof Int32Array) return "int32";
  return "uint8";
}

export interface LoadedStage {
  arrays: Record<string, StoredArray>;
  meta: Record<string, unknown>;
}

/** Told by the store how long a stage takes: its seconds are saved with it and read back. */
export interface StageTimer {
  /** Seconds since the running stage began. */
  elapsed(): number;
  /** The running stage was loaded, and took `seconds` to compute (null when not recorded). */
  markResumed(seconds: number | null): void;
}

export class StageStore {
  constructor(readonly dir: string, readonly timer?: StageTimer) {}

  #paths(stage: string) {
    return { manifest: `${this.dir}/${stage}.json`, data: `${this.dir}/${stage}.bin` };
  }

  /** Saves a finished stage: the data first, the manifest last (it marks the stage done). */
  async save(
    stage: string,
    fields: Record<string, unknown>,
    arrays: Record<string, StoredArray>,
    meta: Record<string, unknown> = {},
  ): Promise<void> {
    const paths = this.#paths(stage);
    const entries = Object.entries(arrays);
    let total = 0;
    for (const [, a] of entries) total += a.byteLength + ((8 - (a.byteLength % 8)) % 8);
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const [, a] of entries) {
      bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
      offset += a.byteLength + ((8 - (a.byteLength % 8)) % 8);
    }
    await writeFileAtomic(paths.data, bytes);
    const manifest: Manifest = {
      stage,
      format: 1,
      hash: hashFields(fields),
      fields,
      arrays: entries.map(([name, a]) => ({ name, dtype: dtypeOf(a), length: a.length })),
      meta: this.timer ? { ...meta, seconds: this.timer.elapsed() } : meta,
    };
    await writeJsonAtomic(paths.manifest, manifest);
  }

  /**
   * The manifest of a finished stage, or null when it was never saved. Throws a `UserError` when
   * the stage was written for other config values or its manifest is damaged.
   */
  async #manifest(stage: string, fields: Record<string, unknown>): Promise<Manifest | null> {
    const paths = this.#paths(stage);
    let manifest: Manifest | null;
    try {
      manifest = await readJsonIfExists<Manifest>(paths.manifest);
    } catch {
      throw new UserError(`${paths.manifest} is corrupt (not valid JSON); delete it to redo it`);
    }
    if (manifest === null) return null;
    if (
      manifest.format !== 1 || manifest.stage !== stage || !Array.isArray(manifest.arrays) ||
      typeof manifest.hash !== "string"
    ) {
      throw new UserError(`${paths.manifest} is not a ${stage} stage file; delete it to redo it`);
    }
    if (manifest.hash !== hashFields(fields)) {
      const differing = differingFields(fields, manifest.fields ?? {});
      throw new UserError(
        `${paths.manifest} was written for another config (differs in ${
          differing.join(", ") || "its hash"
        }); delete ${this.dir} or use another data folder`,
      );
    }
    return manifest;
  }

  /** Whether a stage is finished, without reading its arrays (refused as `load` refuses). */
  async exists(stage: string, fields: Record<string, unknown>): Promise<boolean> {
    return (await this.#manifest(stage, fields)) !== null;
  }

  /**
   * Loads a finished stage, or null when it was never saved. Throws a `UserError` when the
   * stage was written for other config values or its files are damaged.
   */
  async load(stage: string, fields: Record<string, unknown>): Promise<LoadedStage | null> {
    const paths = this.#paths(stage);
    const manifest = await this.#manifest(stage, fields);
    if (manifest === null) return null;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(paths.data);
    } catch {
      throw new UserError(`${paths.data} is missing though ${paths.manifest} exists`);
    }
    const arrays: Record<string, StoredArray> = {};
    let offset = 0;
    for (const { name, dtype, length } of manifest.arrays) {
      const Type = DTYPES[dtype];
      if (!Type) throw new UserError(`${paths.manifest}: unknown dtype ${dtype} for ${name}`);
      const byteLength = length * Type.BYTES_PER_ELEMENT;
      if (offset + byteLength > bytes.length) {
        throw new UserError(
          `${paths.data} is truncated (${bytes.length} bytes, ${name} needs more); delete it`,
        );
      }
      arrays[name] = new Type(bytes.slice(offset, offset + byteLength).buffer);
      offset += byteLength + ((8 - (byteLength % 8)) % 8);
    }
    if (offset !== bytes.length) {
      throw new UserError(
        `${paths.data} has ${bytes.length} bytes, its manifest describes ${offset}; delete it`,
      );
    }
    const meta = manifest.meta ?? {};
    this.timer?.markResumed(typeof meta.seconds === "number" ? meta.seconds : null);
    return { arrays, meta };
  }

  /**
   * Saves a model's parameters as a stage, as a lib/tensor/checkpoint.ts checkpoint in
   * `<dir>/<stage>/` whose metadata holds the stage's config fields.
   */
  async saveParameters(
    stage: string,
    fields: Record<string, unknown>,
    params: ParameterSet,
    meta: Record<string, unknown> = {},
  ): Promise<void> {
    const metadata: ParameterMetadata = {
      stage,
      hash: hashFields(fields),
      fields,
      meta: this.timer ? { ...meta, seconds: this.timer.elapsed() } : meta,
    };
    await saveCheckpoint(`${this.dir}/${stage}`, params, { metadata });
  }

  /**
   * Loads a model's parameters saved by `saveParameters`; null when never saved. A checkpoint
   * of other config values, or a damaged one, is refused with a `UserError`.
   */
  async loadParameters(
    stage: string,
    fields: Record<string, unknown>,
    params: ParameterSet,
  ): Promise<Record<string, unknown> | null> {
    const dir = `${this.dir}/${stage}`;
    if (!(await checkpointExists(dir))) return null;
    // Round-trip through JSON so the comparison sees what the checkpoint could have stored.
    const expected = JSON.parse(JSON.stringify(fields));
    const manifest = await loadCheckpoint<ParameterMetadata>(dir, params, {
      expectedMetadata: { stage, fields: expected },
    });
    const meta = manifest.userDefinedMetadata?.meta ?? {};
    this.timer?.markResumed(typeof meta.seconds === "number" ? meta.seconds : null);
    return meta;
  }
}

interface ParameterMetadata {
  stage: string;
  hash: string;
  fields: Record<string, unknown>;
  meta: Record<string, unknown>;
}
