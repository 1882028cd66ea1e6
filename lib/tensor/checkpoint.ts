/**
 * Checkpoints of named variables (a model's `ParameterSet`) and, optionally, of the optimiser's
 * state, in the directory layout TensorFlow.js's file:// handler writes: `model.json` holding a
 * `weightsManifest` whose entries name, shape and type each weight, and `weights.bin` holding
 * their values back to back (little-endian). User metadata (the config, the training step) goes
 * in `userDefinedMetadata`.
 *
 * Saving never leaves a broken checkpoint: both files are written and flushed in a sibling
 * staging directory, the old directory is moved aside, the staging directory takes its name and
 * only then is the old one deleted. If the process dies between the two renames, loading falls
 * back on the moved-aside previous checkpoint. Loading checks everything before it changes a
 * single variable, and says in one line what is wrong (a `UserError`).
 */
import { basename, dirname, join } from "node:path";
import { tf } from "./mod.ts";
import { UserError } from "../errors.ts";
import { writeFileSynced } from "../io.ts";
import type { ParameterSet } from "../models/nn.ts";

/** Named variables: a model's parameters, or any name -> variable map. */
export type NamedVariables = ParameterSet | Map<string, tf.Variable>;

export type WeightDtype = "float32" | "int32";

/** One entry of `weightsManifest[0].weights`, as in TensorFlow.js's model.json. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: WeightDtype;
  group: "model" | "optimizer";
}

export interface CheckpointManifest<M = Record<string, unknown>> {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: 1;
  generatedBy: string;
  convertedBy: null;
  savedAt: string;
  userDefinedMetadata: M;
  weightsManifest: [{ paths: [typeof WEIGHTS_FILE]; weights: WeightSpec[] }];
  /** Byte length and SHA-256 of weights.bin, so a mismatched pair is refused. */
  weightsBytes: number;
  weightsSha256: string;
  /** The optimiser's class when its state was saved. */
  optimizer: string | null;
}

export const CHECKPOINT_FORMAT = "mbrl-variables";
export const MODEL_FILE = "model.json";
export const WEIGHTS_FILE = "weights.bin";
const STAGING_TAG = ".saving-";
const REPLACED_TAG = ".replaced-";
/**
 * Adam's running powers of beta1 and beta2. `setWeights` recomputes them as pow(beta, t + 1),
 * which differs in the last bits from the product training accumulated; saving them makes a
 * restored run continue bit for bit.
 */
const OPTIMIZER_EXTRA_VARIABLES = ["accBeta1", "accBeta2"];
const EXTRA_PREFIX = "#";

export type SaveStage = "written" | "moved-aside";

export interface SaveOptions<M> {
  /** Saves the optimiser's state (its `getWeights()`) too. */
  optimizer?: tf.Optimizer;
  /** Anything JSON: the config, the training step, the seed. */
  metadata?: M;
  /**
   * Called after each step of the save. For tests that simulate a crash: an exception thrown
   * here propagates without any cleanup, leaving the files as a crash at that point would.
   */
  onStage?: (stage: SaveStage) => void;
}

export interface LoadOptions<M> {
  /** Restores the optimiser's state; the checkpoint must hold one. */
  optimizer?: tf.Optimizer;
  /** Metadata entries that must equal the saved ones (e.g. `{ config }`), checked first. */
  expectedMetadata?: Partial<M>;
}

function variablesOf(variables: NamedVariables): Map<string, tf.Variable> {
  return variables instanceof Map ? variables : variables.variables;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Maps names the optimiser derives from global variable names back to local ones, and on. */
function renamer(variables: Map<string, tf.Variable>, direction: "toLocal" | "toGlobal") {
  const pairs = [...variables].map(([local, v]) =>
    direction === "toLocal" ? [v.name, local] : [local, v.name]
  );
  // Longest prefix first, so "a/kernel" wins over "a" for "a/kernel/m".
  pairs.sort((a, b) => b[0].length - a[0].length);
  return (name: string): string => {
    for (const [from, to] of pairs) {
      if (name.startsWith(`${from}/`)) return to + name.slice(from.length);
    }
    return name;
  };
}

interface NamedValues {
  spec: WeightSpec;
  values: Float32Array | Int32Array;
}

async function collectWeights(
  variables: Map<string, tf.Variable>,
  optimizer: tf.Optimizer | undefined,
): Promise<NamedValues[]> {
  const weights: NamedValues[] = [];
  const add = async (name: string, tensor: tf.Tensor, group: WeightSpec["group"]) => {
    if (tensor.dtype !== "float32" && tensor.dtype !== "int32") {
      throw new Error(`checkpoint: ${name} has dtype ${tensor.dtype}; float32 and int32 only`);
    }
    const values = (await tensor.data()) as Float32Array | Int32Array;
    weights.push({ spec: { name, shape: [...tensor.shape], dtype: tensor.dtype, group }, values });
  };
  for (const [name, variable] of variables) await add(name, variable, "model");
  if (optimizer) {
    const toLocal = renamer(variables, "toLocal");
    const state = await optimizer.getWeights();
    try {
      for (const { name, tensor } of state) await add(toLocal(name), tensor, "optimizer");
    } finally {
      // "iter" is a fresh scalar; the slots are the optimiser's own variables.
      tf.dispose(state[0]?.tensor);
    }
    const record = optimizer as unknown as Record<string, unknown>;
    for (const field of OPTIMIZER_EXTRA_VARIABLES) {
      const value = record[field];
      if (value instanceof tf.Variable) await add(EXTRA_PREFIX + field, value, "optimizer");
    }
  }
  const names = new Set<string>();
  for (const { spec } of weights) {
    const key = `${spec.group}:${spec.name}`;
    if (names.has(key)) throw new Error(`checkpoint: two weights named ${spec.name}`);
    names.add(key);
  }
  return weights;
}

/** Checks that an existing checkpoint directory holds nothing a save would lose. */
async function assertReplaceable(dir: string): Promise<void> {
  const info = await Deno.stat(dir);
  if (!info.isDirectory) {
    throw new UserError(`checkpoint path ${dir} exists and is not a directory`);
  }
  const foreign: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name !== MODEL_FILE && entry.name !== WEIGHTS_FILE) foreign.push(entry.name);
  }
  if (foreign.length > 0) {
    throw new UserError(
      `refusing to replace ${dir}: it holds files other than a checkpoint (${
        foreign.slice(0, 3).join(", ")
      })`,
    );
  }
}

/** Leftovers of earlier interrupted saves of `dir`. */
async function leftovers(dir: string): Promise<string[]> {
  const parent = dirname(dir);
  const base = basename(dir);
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(parent)) {
      if (
        entry.name.startsWith(base + STAGING_TAG) || entry.name.startsWith(base + REPLACED_TAG)
      ) {
        found.push(join(parent, entry.name));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found;
}

/**
 * Saves `variables` (and the optimiser's state) to directory `dir`, replacing any checkpoint
 * there. The directory must hold nothing else.
 */
export async function saveCheckpoint<M = Record<string, unknown>>(
  dir: string,
  variables: NamedVariables,
  options: SaveOptions<M> = {},
): Promise<CheckpointManifest<M>> {
  const named = variablesOf(variables);
  const weights = await collectWeights(named, options.optimizer);
  const totalBytes = weights.reduce((sum, w) => sum + w.values.byteLength, 0);
  const bytes = new Uint8Array(totalBytes);
  let offset = 0;
  for (const { values } of weights) {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    offset += values.byteLength;
  }
  const manifest: CheckpointManifest<M> = {
    format: CHECKPOINT_FORMAT,
    formatVersion: 1,
    generatedBy: `TensorFlow.js ${tf.version.tfjs}, backend ${tf.getBackend()}`,
    convertedBy: null,
    savedAt: new Date().toISOString(),
    userDefinedMetadata: (options.metadata ?? {}) as M,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weights.map((w) => w.spec) }],
    weightsBytes: totalBytes,
    weightsSha256: await sha256Hex(bytes),
    optimizer: options.optimizer ? options.optimizer.getClassName() : null,
  };

  const parent = dirname(dir);
  await Deno.mkdir(parent, { recursive: true });
  const hadCheckpoint = await exists(dir);
  if (hadCheckpoint) await assertReplaceable(dir);
  const stale = await leftovers(dir);
  const tag = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const staging = join(parent, basename(dir) + STAGING_TAG + tag);
  await Deno.mkdir(staging);
  try {
    await writeFileSynced(join(staging, WEIGHTS_FILE), bytes);
    const json = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
    await writeFileSynced(join(staging, MODEL_FILE), json);
  } catch (error) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw error;
  }
  options.onStage?.("written");

  const aside = join(parent, basename(dir) + REPLACED_TAG + tag);
  if (hadCheckpoint) await Deno.rename(dir, aside);
  options.onStage?.("moved-aside");
  try {
    await Deno.rename(staging, dir);
  } catch (error) {
    if (hadCheckpoint) await Deno.rename(aside, dir).catch(() => {});
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw error;
  }
  for (const path of hadCheckpoint ? [aside, ...stale] : stale) {
    await Deno.remove(path, { recursive: true }).catch(() => {});
  }
  return manifest;
}

/**
 * The directory to read: `dir` itself, or, when a save was interrupted between its two renames,
 * the previous checkpoint it had moved aside.
 */
async function resolveDirectory(dir: string): Promise<string> {
  if (await exists(join(dir, MODEL_FILE))) return dir;
  const previous = (await leftovers(dir)).filter((p) => p.includes(REPLACED_TAG));
  for (const candidate of previous) {
    if (await exists(join(candidate, MODEL_FILE))) return candidate;
  }
  if (!(await exists(dir))) throw new UserError(`checkpoint ${dir} not found`);
  throw new UserError(`checkpoint ${dir} has no ${MODEL_FILE}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseManifest<M>(text: string, path: string): CheckpointManifest<M> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path} is not valid JSON (${(error as Error).message.split("\n")[0]})`);
  }
  const fail = (what: string) => new UserError(`${path}: ${what}`);
  if (!isRecord(parsed)) throw fail("not a checkpoint manifest");
  if (parsed.format !== CHECKPOINT_FORMAT) {
    throw fail(`format is ${JSON.stringify(parsed.format)}, expected "${CHECKPOINT_FORMAT}"`);
  }
  const manifest = parsed.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length !== 1 || !isRecord(manifest[0])) {
    throw fail("weightsManifest must hold one group");
  }
  const paths = manifest[0].paths;
  if (!Array.isArray(paths) || paths.length !== 1 || paths[0] !== WEIGHTS_FILE) {
    throw fail(`weightsManifest paths must be ["${WEIGHTS_FILE}"]`);
  }
  const weights = manifest[0].weights;
  if (!Array.isArray(weights)) throw fail("weightsManifest has no weights list");
  for (const spec of weights) {
    const ok = isRecord(spec) && typeof spec.name === "string" && Array.isArray(spec.shape) &&
      spec.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      (spec.dtype === "float32" || spec.dtype === "int32") &&
      (spec.group === "model" || spec.group === "optimizer");
    if (!ok) throw fail(`malformed weight entry ${JSON.stringify(spec).slice(0, 80)}`);
  }
  if (!Number.isInteger(parsed.weightsBytes) || typeof parsed.weightsSha256 !== "string") {
    throw fail("weightsBytes or weightsSha256 missing");
  }
  return parsed as unknown as CheckpointManifest<M>;
}

/** Reads and checks a checkpoint's model.json without touching weights.bin. */
export async function readCheckpointManifest<M = Record<string, unknown>>(
  dir: string,
): Promise<CheckpointManifest<M>> {
  const source = await resolveDirectory(dir);
  const path = join(source, MODEL_FILE);
  return parseManifest<M>(await Deno.readTextFile(path), path);
}

/** Whether `dir` holds a checkpoint (possibly the one an interrupted save left aside). */
export async function checkpointExists(dir: string): Promise<boolean> {
  try {
    await resolveDirectory(dir);
    return true;
  } catch (error) {
    if (error instanceof UserError) return false;
    throw error;
  }
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? "nothing" : text.length > 60 ? text.slice(0, 57) + "..." : text;
}

/** The first path at which two JSON values differ ("" when equal). */
function firstDifference(saved: unknown, expected: unknown, path: string): string | null {
  if (isRecord(saved) && isRecord(expected)) {
    const keys = new Set([...Object.keys(saved), ...Object.keys(expected)]);
    for (const key of [...keys].sort()) {
      const found = firstDifference(saved[key], expected[key], `${path}.${key}`);
      if (found !== null) return found;
    }
    return null;
  }
  if (Array.isArray(saved) && Array.isArray(expected)) {
    if (saved.length !== expected.length) return path;
    for (let i = 0; i < saved.length; i++) {
      const found = firstDifference(saved[i], expected[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  // Compare as JSON would store them (undefined fields vanish, -0 is 0).
  return JSON.stringify(saved) === JSON.stringify(expected) ? null : path;
}

function valueAt(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    value = isRecord(value) ? value[part] : Array.isArray(value) ? value[Number(part)] : undefined;
  }
  return value;
}

/**
 * Refuses (with a `UserError` naming the first differing field) when a checkpoint's saved
 * metadata differs from what this run expects, e.g. a checkpoint of another config.
 */
export function assertMetadataMatches(
  saved: unknown,
  expected: unknown,
  where: string,
  rootName = "metadata",
): void {
  const path = firstDifference(saved, expected, rootName);
  if (path === null) return;
  const relative = path.slice(rootName.length);
  throw new UserError(
    `checkpoint ${where} was saved with ${path} = ${
      describeValue(valueAt(saved, relative))
    }, but this run has ${describeValue(valueAt(expected, relative))}`,
  );
}

/**
 * Loads a checkpoint into `variables` (same names and shapes, no more, no fewer) and, when
 * asked, into the optimiser. Nothing is assigned unless every check passes. Returns the manifest
 * (its `userDefinedMetadata` holds what was saved with it).
 */
export async function loadCheckpoint<M = Record<string, unknown>>(
  dir: string,
  variables: NamedVariables,
  options: LoadOptions<M> = {},
): Promise<CheckpointManifest<M>> {
  const source = await resolveDirectory(dir);
  const manifestPath = join(source, MODEL_FILE);
  const manifest = parseManifest<M>(await Deno.readTextFile(manifestPath), manifestPath);
  if (options.expectedMetadata !== undefined) {
    const saved = manifest.userDefinedMetadata as Record<string, unknown>;
    for (const [key, value] of Object.entries(options.expectedMetadata)) {
      assertMetadataMatches(saved?.[key], value, dir, key);
    }
  }

  const weightsPath = join(source, WEIGHTS_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(weightsPath);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UserError(`${weightsPath} not found`);
    throw error;
  }
  const specs = manifest.weightsManifest[0].weights;
  const expectedBytes = specs.reduce((sum, s) => sum + 4 * tf.util.sizeFromShape(s.shape), 0);
  if (bytes.length !== expectedBytes || bytes.length !== manifest.weightsBytes) {
    throw new UserError(
      `${weightsPath} has ${bytes.length} bytes, but ${MODEL_FILE} describes ${expectedBytes}`,
    );
  }
  if (await sha256Hex(bytes) !== manifest.weightsSha256) {
    throw new UserError(`${weightsPath} does not match ${MODEL_FILE} (its SHA-256 differs)`);
  }

  // Slice the values out, by group.
  const values = new Map<string, NamedValues>();
  let offset = 0;
  const copy = bytes.slice().buffer;
  for (const spec of specs) {
    const size = tf.util.sizeFromShape(spec.shape);
    const data = spec.dtype === "float32"
      ? new Float32Array(copy, offset, size)
      : new Int32Array(copy, offset, size);
    values.set(`${spec.group}:${spec.name}`, { spec, values: data });
    offset += 4 * size;
  }

  const named = variablesOf(variables);
  const fail = (what: string) => new UserError(`checkpoint ${dir}: ${what}`);
  for (const [name, variable] of named) {
    const saved = values.get(`model:${name}`);
    if (!saved) throw fail(`no saved value for variable ${name}`);
    if (saved.spec.shape.join() !== variable.shape.join()) {
      throw fail(`${name} has shape [${saved.spec.shape}] saved, [${variable.shape}] here`);
    }
    if (saved.spec.dtype !== variable.dtype) {
      throw fail(`${name} is ${saved.spec.dtype} saved, ${variable.dtype} here`);
    }
  }
  const unknown = specs.filter((s) => s.group === "model" && !named.has(s.name));
  if (unknown.length > 0) {
    throw fail(`saved variable ${unknown[0].name} does not exist here (another architecture?)`);
  }
  const optimizerSpecs = specs.filter((s) => s.group === "optimizer");
  if (options.optimizer) {
    if (manifest.optimizer === null || optimizerSpecs.length === 0) {
      throw fail("it holds no optimizer state");
    }
    if (manifest.optimizer !== options.optimizer.getClassName()) {
      throw fail(
        `optimizer state is ${manifest.optimizer}'s, not ${options.optimizer.getClassName()}'s`,
      );
    }
    // A slot named after a variable must have its shape ("x/kernel/m" like "x/kernel").
    for (const spec of optimizerSpecs) {
      const owner = [...named.keys()].filter((n) => spec.name.startsWith(`${n}/`))
        .sort((a, b) => b.length - a.length)[0];
      if (owner && named.get(owner)!.shape.join() !== spec.shape.join()) {
        throw fail(
          `optimizer slot ${spec.name} has shape [${spec.shape}], its variable [${
            named.get(owner)!.shape
          }]`,
        );
      }
    }
  }

  tf.tidy(() => {
    for (const [name, variable] of named) {
      const { spec, values: data } = values.get(`model:${name}`)!;
      variable.assign(tf.tensor(data, spec.shape, spec.dtype));
    }
  });
  if (options.optimizer) await restoreOptimizer(options.optimizer, optimizerSpecs, values, named);
  return manifest;
}

async function restoreOptimizer(
  optimizer: tf.Optimizer,
  specs: WeightSpec[],
  values: Map<string, NamedValues>,
  named: Map<string, tf.Variable>,
): Promise<void> {
  const toGlobal = renamer(named, "toGlobal");
  const slots = specs.filter((s) => !s.name.startsWith(EXTRA_PREFIX));
  const tensors = slots.map((spec) => ({
    name: toGlobal(spec.name),
    tensor: tf.tensor(values.get(`optimizer:${spec.name}`)!.values, spec.shape, spec.dtype),
  }));
  // setWeights replaces the slot variables without disposing the old ones ("iter" is a copy).
  const previous = await optimizer.getWeights();
  try {
    await optimizer.setWeights(tensors);
  } catch (error) {
    tf.dispose(previous[0]?.tensor);
    throw error;
  } finally {
    // The new slot variables share these tensors' data, which outlives them.
    tf.dispose(tensors.map((t) => t.tensor));
  }
  tf.dispose(previous.map((p) => p.tensor));
  const record = optimizer as unknown as Record<string, unknown>;
  for (const spec of specs.filter((s) => s.name.startsWith(EXTRA_PREFIX))) {
    const target = record[spec.name.slice(EXTRA_PREFIX.length)];
    if (target instanceof tf.Variable) {
      tf.tidy(() =>
        target.assign(tf.tensor(values.get(`optimizer:${spec.name}`)!.values, spec.shape))
      );
    }
  }
}
