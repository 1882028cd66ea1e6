/**
 * Bench section "tensor": the tensor work the reproductions spend their time on, on this library
 * (TensorFlow.js on wasm, heavy kernels on the machine's BLAS) and side by side with PyTorch on
 * the same CPU, at 1 thread each and at 2 threads each, measured in one run.
 *
 * Rows: float32 matmul at 64, 256 and 512 through TensorFlow.js, through `cblas_sgemm` called
 * directly (the limit the BLAS kernels can reach) and through `torch.mm`; then the training and
 * planning steps of bench/workloads.ts (VAE, MLP, MDN-RNN, RSSM at the laptop and the paper's size,
 * one CEM plan at the paper's settings), ours against bench/torch_workloads.py. The PyTorch side
 * runs when `python3 -c "import torch"` works (Debian: `apt-get install python3-torch`); it is a
 * bench tool, never a test dependency. Two reference rows: the VAE on wasm alone (MBRL_BLAS=off's
 * path) and on the JavaScript CPU backend (batch 2: seconds per frame there).
 *
 * Thread counts: ours sets the BLAS's threads; PyTorch gets torch.set_num_threads and the same
 * OPENBLAS_NUM_THREADS/OMP_NUM_THREADS. The figure res/bench-tensor-vs-pytorch.svg shows each
 * workload's speed relative to PyTorch.
 *
 *   deno task bench tensor [--quick]
 */
import { activeBlas, backend, describeBackend, tf, withBackend } from "../lib/tensor/mod.ts";
import { withBlas } from "../lib/tensor/testing.ts";
import { ConvVae, PAPER_VAE_CONFIG } from "../lib/models/vae.ts";
import { Rng } from "../lib/rng.ts";
import { barChart, Plot, saveFigure } from "../lib/viz/mod.ts";
import { REPO_ROOT } from "../lib/io.ts";
import { makeWorkload, timeWorkload, WORKLOAD_NAMES, type WorkloadName } from "./workloads.ts";
import { runStageJobs } from "../lib/experiments/stage_pool.ts";

export interface TensorBenchRow {
  measure: string;
  /** A short name for the figure. */
  short: string;
  threads: number;
  /** Ours: GFLOP/s for matmuls, milliseconds per step otherwise. */
  ours: number;
  /** The same on PyTorch (NaN when PyTorch is not installed). */
  pytorch: number;
  /** The BLAS called directly, for matmuls (NaN otherwise). */
  blasDirect: number;
  unit: string;
  /** How many times faster ours is than PyTorch (>1: ours is faster). */
  speedVsPytorch: number;
}

export interface TensorBenchOptions {
  quick?: boolean;
  print?: boolean;
}

const MATMUL_SIZES = [64, 256, 512];

const SHORT_NAMES: Record<WorkloadName, string> = {
  "vae": "VAE",
  "mlp": "MLP",
  "mdn-rnn": "MDN-RNN",
  "rssm-laptop": "RSSM laptop",
  "rssm-paper": "RSSM paper",
  "cem-paper": "CEM paper",
};
const THREAD_COUNTS = [1, 2];

function timePerRun(body: () => void, minSeconds: number, minReps: number): number {
  let reps = 0;
  const started = performance.now();
  while (reps < minReps || performance.now() - started < minSeconds * 1000) {
    body();
    reps++;
  }
  return (performance.now() - started) / 1000 / reps;
}

function tfjsMatmulGflops(size: number, minSeconds: number): number {
  const [a, b] = [0, 1].map((seed) =>
    tf.randomUniform([size, size], -1, 1, "float32", seed) as tf.Tensor2D
  );
  const product = () => tf.tidy(() => void tf.matMul(a, b).dataSync());
  product();
  const seconds = timePerRun(product, minSeconds, 3);
  tf.dispose([a, b]);
  return (2 * size ** 3) / seconds / 1e9;
}

function directBlasGflops(size: number, minSeconds: number): number {
  const blas = activeBlas();
  if (!blas) return NaN;
  const rng = new Rng(0);
  const a = rng.fillNormal(new Float32Array(size * size)) as Float32Array;
  const b = rng.fillNormal(new Float32Array(size * size)) as Float32Array;
  const c = new Float32Array(size * size);
  const product = () => blas.sgemm(false, false, size, size, size, a, size, b, size, 0, c, size);
  product();
  return (2 * size ** 3) / timePerRun(product, minSeconds, 3) / 1e9;
}

/** A Python with PyTorch, or null. */
async function findTorchPython(): Promise<string | null> {
  for (const python of ["python3", "/usr/bin/python3"]) {
    try {
      const { code } = await new Deno.Command(python, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (code === 0) return python;
    } catch {
      // Not on this machine.
    }
  }
  return null;
}

async function runTorch(python: string, threads: number, args: string[]): Promise<unknown> {
  const threadEnv = String(threads);
  const { code, stdout, stderr } = await new Deno.Command(python, {
    args: [`${REPO_ROOT}/bench/torch_workloads.py`, "--threads", threadEnv, ...args],
    // Passive waiting: spinning OpenMP threads starve OpenBLAS's on a 2-core machine (PyTorch's
    // VAE step took 2.2 s at 2 threads with spinning, 0.4 s without).
    env: {
      OPENBLAS_NUM_THREADS: threadEnv,
      OMP_NUM_THREADS: threadEnv,
      OMP_WAIT_POLICY: "PASSIVE",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`bench/torch_workloads.py failed: ${new TextDecoder().decode(stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(stdout));
}

function vaeFramesPerSecond(batch: number, steps: number): number {
  const vae = new ConvVae(PAPER_VAE_CONFIG, new Rng(0));
  const frames = tf.randomUniform([batch, 64, 64, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  vae.trainStep(frames);
  const started = performance.now();
  for (let i = 0; i < steps; i++) vae.trainStep(frames);
  const seconds = (performance.now() - started) / 1000 / steps;
  tf.dispose(frames);
  vae.dispose();
  return batch / seconds;
}

export async function run(options: TensorBenchOptions = {}): Promise<TensorBenchRow[]> {
  const quick = options.quick ?? false;
  const print = options.print ?? true;
  const blas = activeBlas();
  const python = await findTorchPython();
  if (!python) console.error("  PyTorch not found (apt-get install python3-torch): ours only");
  const repeats = quick ? 2 : 5;
  const rows: TensorBenchRow[] = [];
  const add = (row: Omit<TensorBenchRow, "speedVsPytorch">) => {
    const faster = row.unit === "GFLOP/s" ? row.ours / row.pytorch : row.pytorch / row.ours;
    const full = { ...row, speedVsPytorch: faster };
    rows.push(full);
    if (print) {
      console.log(
        `  ${row.measure.padEnd(40)} ${row.threads} thr  ours ${row.ours.toPrecision(4)} ` +
          `pytorch ${row.pytorch.toPrecision(4)} ${row.unit}  x${faster.toFixed(2)}`,
      );
    }
  };
  const previousThreads = blas?.threads ?? 1;
  try {
    for (const threads of THREAD_COUNTS) {
      if (blas?.canSetThreads) blas.setThreads(threads);
      const torchMatmul = python
        ? (await runTorch(python, threads, ["--matmul", MATMUL_SIZES.join(",")])) as {
          gflops: Record<string, number>;
        }
        : null;
      for (const size of MATMUL_SIZES) {
        add({
          measure: `matmul ${size}x${size}`,
          short: `matmul ${size}`,
          threads,
          ours: tfjsMatmulGflops(size, quick ? 0.2 : 1),
          pytorch: torchMatmul?.gflops[size] ?? NaN,
          blasDirect: directBlasGflops(size, quick ? 0.2 : 1),
          unit: "GFLOP/s",
        });
      }
      // Each workload alternates PyTorch and ours over rounds and keeps each side's best median,
      // so a slow spell of a shared machine does not fall on one side only.
      for (const name of WORKLOAD_NAMES) {
        let ours = Infinity;
        let pytorch = python ? Infinity : NaN;
        let description = name as string;
        for (let round = 0; round < (quick ? 1 : 2); round++) {
          if (python) {
            const torch = (await runTorch(python, threads, [
              "--workloads",
              name,
              "--repeats",
              String(repeats),
            ])) as { secondsPerStep: Record<WorkloadName, number> };
            pytorch = Math.min(pytorch, 1000 * torch.secondsPerStep[name]);
          }
          const workload = makeWorkload(name);
          description = workload.description;
          ours = Math.min(ours, 1000 * timeWorkload(workload, quick ? 1 : 2, repeats));
          workload.dispose();
        }
        add({
          measure: description,
          short: SHORT_NAMES[name],
          threads,
          ours,
          pytorch,
          blasDirect: NaN,
          unit: "ms/step",
        });
      }
    }
  } finally {
    if (blas?.canSetThreads) blas.setThreads(previousThreads);
  }
  // Reference rows: what the VAE step costs without the BLAS, and on the JavaScript backend.
  const wasmAlone = await withBlas(null, () => vaeFramesPerSecond(100, quick ? 1 : 2));
  const cpu = await withBackend("cpu", () => vaeFramesPerSecond(2, 1));
  for (const [measure, framesPerSecond] of [["wasm alone", wasmAlone], ["JavaScript CPU", cpu]]) {
    add({
      short: `VAE on ${measure}`,
      measure: `VAE training step on ${measure} (${measure === "wasm alone" ? 100 : 2} frames)`,
      threads: 1,
      ours: 1000 * 100 / (framesPerSecond as number),
      pytorch: NaN,
      blasDirect: NaN,
      unit: "ms per 100 frames",
    });
  }
  rows.push(...await workerRows(quick ? 2 : 5, print));
  if (python) await drawFigure(rows);
  return rows;
}

/**
 * Two stage workers training the VAE at once (as the stage pool runs PlaNet's or World Models'
 * stages), with one BLAS thread each, as the pool sets, and with two each.
 */
async function workerRows(steps: number, print: boolean): Promise<TensorBenchRow[]> {
  const rows: TensorBenchRow[] = [];
  for (const blasThreads of [undefined, 2]) {
    const jobs = [0, 1].map((i) => ({
      label: `VAE ${i}`,
      moduleUrl: new URL("./worker_steps.ts", import.meta.url),
      exportName: "vaeSteps",
      args: { steps, blasThreads },
    }));
    const started = performance.now();
    await runStageJobs(jobs, { workers: 2 });
    const msPerStep = (performance.now() - started) / steps;
    const each = blasThreads === undefined ? "1 BLAS thread each (the pool's share)" : "2 each";
    rows.push({
      measure: `2 workers training the VAE at once, ${each}`,
      short: "2 workers",
      threads: 2,
      ours: msPerStep,
      pytorch: NaN,
      blasDirect: NaN,
      unit: "ms per step of both",
      speedVsPytorch: NaN,
    });
    if (print) console.log(`  ${rows.at(-1)!.measure}: ${msPerStep.toFixed(0)} ms per step`);
  }
  return rows;
}

/** Draws res/bench-tensor-vs-pytorch.svg from the rows (also from a saved data/bench file). */
export async function drawFigure(rows: TensorBenchRow[]): Promise<void> {
  const compared = rows.filter((row) => Number.isFinite(row.speedVsPytorch));
  const svg = barChart({
    title: "This library against PyTorch on the same CPU",
    subtitle: `${describeBackend(backend)}; bars above 1: ours is faster`,
    bars: compared.map((row) => ({
      label: `${row.threads} thread${row.threads === 1 ? "" : "s"}`,
      value: row.speedVsPytorch,
      group: row.short,
    })),
    yLabel: "speed relative to PyTorch",
    marks: [Plot.ruleY([1], { strokeDasharray: "4,4" })],
    width: 900,
    height: 360,
  });
  await saveFigure(svg, `${REPO_ROOT}/res/bench-tensor-vs-pytorch.svg`);
}

/** The section the bench harness (bench/main.ts) runs. */
export const tensorSection = { name: "tensor", run };

if (import.meta.main) await run({ quick: Deno.args.includes("--quick") });
