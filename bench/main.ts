/**
 * `deno task bench [SECTION...] [--quick] [--tag NAME] [--list]`: runs the bench sections of
 * bench/sections.ts (all of them, or the ones named) in order, prints each as a table, and writes
 * data/bench/<section>.json (or <section>-<NAME>.json with --tag) with the figures and what
 * produced them (date, Deno and TensorFlow.js versions, backend and BLAS, the environment
 * variables that steer the BLAS, machine and its load: the numbers mean little without them).
 */
import { REPO_ROOT, writeJsonAtomic } from "../lib/io.ts";
import { UserError } from "../lib/errors.ts";
import type { BenchResult, BenchSection } from "./sections.ts";

function formatCell(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "-";
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
  }
  return value === undefined || value === null ? "" : String(value);
}

/** Rows as a text table with a header; columns are the union of the rows' keys. */
export function formatTable(result: BenchResult): string {
  const rows = (Array.isArray(result) ? result : [result]) as Record<string, unknown>[];
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = [columns, ...rows.map((row) => columns.map((c) => formatCell(row[c])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  const lines = cells.map((line) =>
    line.map((cell, i) =>
      typeof rows[0]?.[columns[i]] === "number" ? cell.padStart(widths[i]) : cell.padEnd(widths[i])
    ).join("  ").trimEnd()
  );
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return lines.join("\n");
}

function cpuModel(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    return info.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** The environment variables that change which BLAS kernels run, and how many threads. */
function blasEnvironment(): Record<string, string> {
  const names = ["MBRL_BLAS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"];
  return Object.fromEntries(
    names.flatMap((name) => {
      const value = Deno.env.get(name);
      return value === undefined ? [] : [[name, value]];
    }),
  );
}

function machine() {
  return {
    cpu: cpuModel(),
    logicalCores: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    // Other work on the machine slows every figure; keep the load beside them.
    loadAverage: Deno.loadavg(),
  };
}

export async function selectSections(names: string[]): Promise<BenchSection[]> {
  // Imported here so a bad MBRL_BLAS or MBRL_BACKEND is a one-line error, not a stack trace.
  const { BENCH_SECTIONS } = await import("./sections.ts");
  if (names.length === 0) return [...BENCH_SECTIONS];
  return names.map((name) => {
    const section = BENCH_SECTIONS.find((s) => s.name === name);
    if (!section) {
      throw new UserError(
        `no bench section ${name}; the sections are ${
          BENCH_SECTIONS.map((s) => s.name).join(", ")
        }`,
      );
    }
    return section;
  });
}

async function main(args: string[]): Promise<void> {
  if (args.includes("--list")) {
    for (const section of await selectSections([])) console.log(section.name);
    return;
  }
  const quick = args.includes("--quick");
  const tagAt = args.indexOf("--tag");
  const tag = tagAt >= 0 ? args[tagAt + 1] : undefined;
  if (tagAt >= 0 && !/^[A-Za-z0-9_-]+$/.test(tag ?? "")) {
    throw new UserError("--tag needs a name of letters, digits, '-' and '_'");
  }
  const rest = tagAt >= 0 ? args.filter((_, i) => i !== tagAt && i !== tagAt + 1) : args;
  const unknownFlag = rest.find((a) => a.startsWith("--") && a !== "--quick");
  if (unknownFlag) {
    throw new UserError(`unknown option ${unknownFlag}; use --quick, --tag NAME or --list`);
  }
  const sections = await selectSections(rest.filter((a) => !a.startsWith("--")));
  const { backend, describeBackend, tf } = await import("../lib/tensor/mod.ts");
  for (const section of sections) {
    console.log(`\n== ${section.name} ==`);
    const started = performance.now();
    const loadBefore = Deno.loadavg();
    const result = await section.run({ quick, print: false });
    const wallSeconds = (performance.now() - started) / 1000;
    console.log(formatTable(result));
    const file = tag ? `${section.name}-${tag}` : section.name;
    const path = `${REPO_ROOT}/data/bench/${file}.json`;
    await writeJsonAtomic(path, {
      section: section.name,
      date: new Date().toISOString(),
      command: `deno task bench ${section.name}${quick ? " --quick" : ""}${
        tag ? ` --tag ${tag}` : ""
      }`,
      quick,
      wallSeconds: Number(wallSeconds.toFixed(1)),
      deno: Deno.version,
      tfjs: tf.version.tfjs,
      backend: describeBackend(backend),
      blasEnvironment: blasEnvironment(),
      machine: { ...machine(), loadAverageBefore: loadBefore },
      results: result,
    });
    console.log(`(${wallSeconds.toFixed(0)} s; written to data/bench/${file}.json)`);
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    if (error instanceof UserError) {
      console.error(error.message);
      Deno.exit(1);
    }
    throw error;
  }
}
