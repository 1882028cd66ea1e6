/**
 * Executes the notebooks through a real Jupyter with the Deno kernel (nbconvert), for
 * `deno task notebooks` (in place, with outputs, at the laptop budget) and for the tests (a copy
 * at the quick budget). Also finds error outputs in an executed notebook.
 */
import { REPO_ROOT } from "./io.ts";

export const NOTEBOOK_DIR = `${REPO_ROOT}/notebooks`;

export const JUPYTER_INSTALL_HINT =
  "install Jupyter with 'apt-get install jupyter-nbconvert jupyter-client' (Debian) or " +
  "'pip install nbconvert', then the Deno kernel with 'deno jupyter --install'";

/** Notebook paths in reading order. */
export async function listNotebooks(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(NOTEBOOK_DIR)) {
    if (entry.isFile && entry.name.endsWith(".ipynb")) names.push(entry.name);
  }
  return names.sort().map((name) => `${NOTEBOOK_DIR}/${name}`);
}

async function succeeds(command: string, args: string[]): Promise<string | null> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    return output.success ? new TextDecoder().decode(output.stdout) : null;
  } catch {
    return null;
  }
}

/** Null when Jupyter and the Deno kernel are ready, else what is missing. */
export async function jupyterProblem(): Promise<string | null> {
  if ((await succeeds("jupyter", ["nbconvert", "--version"])) === null) {
    return "Jupyter (nbconvert) is not installed";
  }
  const kernels = await succeeds("jupyter", ["kernelspec", "list", "--json"]);
  if (kernels === null || !("deno" in (JSON.parse(kernels).kernelspecs ?? {}))) {
    return "the Deno Jupyter kernel is not installed";
  }
  return null;
}

export interface ExecuteOptions {
  /** MBRL_BUDGET for the run. */
  budget: "quick" | "laptop" | "paper";
  /** Write outputs into the notebook itself (else into `outputDir`). */
  inPlace: boolean;
  outputDir?: string;
  timeoutSeconds: number;
}

/** Executes one notebook; returns the executed notebook's path and how long it took. */
export async function executeNotebook(
  path: string,
  options: ExecuteOptions,
): Promise<{ path: string; seconds: number }> {
  const args = [
    "nbconvert",
    "--to",
    "notebook",
    "--execute",
    `--ExecutePreprocessor.timeout=${options.timeoutSeconds}`,
    "--ExecutePreprocessor.kernel_name=deno",
  ];
  let executed = path;
  if (options.inPlace) {
    args.push("--inplace");
  } else {
    const outputDir = options.outputDir ?? `${REPO_ROOT}/data/quick/notebooks`;
    args.push("--output-dir", outputDir);
    executed = `${outputDir}/${path.split("/").pop()}`;
  }
  args.push(path);
  const started = performance.now();
  const output = await new Deno.Command("jupyter", {
    args,
    env: { MBRL_BUDGET: options.budget, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!output.success) {
    const log = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-25).join("\n");
    throw new Error(`executing ${path} failed:\n${log}`);
  }
  return { path: executed, seconds };
}

interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
}

/** Error outputs of an executed notebook: raised errors and error text on stderr. */
export async function notebookErrors(path: string): Promise<string[]> {
  const notebook = JSON.parse(await Deno.readTextFile(path));
  const errors: string[] = [];
  notebook.cells.forEach(
    (cell: { cell_type: string; outputs?: NotebookOutput[] }, index: number) => {
      for (const output of cell.outputs ?? []) {
        if (output.output_type === "error") {
          errors.push(`cell ${index}: ${output.ename}: ${output.evalue}`);
        } else if (output.output_type === "stream" && output.name === "stderr") {
          const text = Array.isArray(output.text) ? output.text.join("") : output.text ?? "";
          if (/error|exception|uncaught/i.test(text)) {
            errors.push(`cell ${index} stderr: ${text.trim()}`);
          }
        }
      }
    },
  );
  return errors;
}

/**
 * Cells whose outputs include inline SVG: GitHub's and nbviewer's renderers blank those, so
 * figures must be PNG outputs (lib/viz/raster.ts).
 */
export async function svgOutputCells(path: string): Promise<number[]> {
  const notebook = JSON.parse(await Deno.readTextFile(path));
  const cells: number[] = [];
  notebook.cells.forEach((cell: { outputs?: { data?: object }[] }, index: number) => {
    if ((cell.outputs ?? []).some((output) => "image/svg+xml" in (output.data ?? {}))) {
      cells.push(index);
    }
  });
  return cells;
}

/** Code cells that have never been executed (no execution count). */
export async function unexecutedCells(path: string): Promise<number[]> {
  const notebook = JSON.parse(await Deno.readTextFile(path));
  const missing: number[] = [];
  notebook.cells.forEach(
    (cell: { cell_type: string; execution_count?: number | null }, i: number) => {
      if (cell.cell_type === "code" && !cell.execution_count) missing.push(i);
    },
  );
  return missing;
}
