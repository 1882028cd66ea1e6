/**
 * File writes that never leave a half-written file behind: write to a temporary file beside the
 * target, flush it, then rename over the target (rename is atomic on one filesystem).
 */
import { dirname } from "node:path";

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    await writeFileSynced(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * Writes all of `bytes` to a new file and flushes it to disk before returning, so a rename that
 * follows never exposes a partly written file. Fails if `path` exists.
 */
export async function writeFileSynced(path: string, bytes: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
}

/** Writes JSON (two-space indented, trailing newline) atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Reads a JSON file, or returns null when it does not exist. */
export async function readJsonIfExists<T = unknown>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** The repository root (the folder holding deno.json), for paths like data/ and res/. */
export const REPO_ROOT: string = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
