/** Where figures and images are written: paths relative to the repository root, atomically. */
import { isAbsolute, join, relative } from "node:path";
import { REPO_ROOT, writeFileAtomic } from "../io.ts";

/**
 * Resolves a relative path against the repository root rather than the working directory, so
 * `res/figure.svg` means the same file from the CLI, from tests and from a notebook in notebooks/.
 */
export function resolveFromRepoRoot(path: string): string {
  return isAbsolute(path) ? path : join(REPO_ROOT, path);
}

/**
 * The path relative to the repository root when the file lies inside it (what results files
 * record, e.g. `res/dyna/steps.svg`), else the absolute path.
 */
export function repoRelativePath(path: string): string {
  const absolutePath = resolveFromRepoRoot(path);
  const fromRoot = relative(REPO_ROOT, absolutePath);
  return fromRoot.startsWith("..") || isAbsolute(fromRoot) ? absolutePath : fromRoot;
}

/**
 * Writes bytes or text atomically (creating folders). Returns the path written, relative to the
 * repository root when inside it.
 */
export async function saveFile(data: Uint8Array | string, path: string): Promise<string> {
  const absolutePath = resolveFromRepoRoot(path);
  await writeFileAtomic(absolutePath, data);
  return repoRelativePath(absolutePath);
}
