/**
 * The machine's CBLAS, called through Deno's FFI: the fast path for the heavy wasm kernels
 * (matrix products and convolutions; see kernels/blas_*.ts). WebAssembly SIMD is 128 bits wide
 * and runs on one thread, so XNNPACK reaches a fraction of what an optimised BLAS does on the
 * same core, and none of the other cores.
 *
 * `MBRL_BLAS=/path/to/library` names the library, `MBRL_BLAS=off` turns the path off; otherwise
 * the usual names for the OS are tried in order (Linux: OpenBLAS, then other CBLAS libraries;
 * macOS: Accelerate, then Homebrew's OpenBLAS; Windows: OpenBLAS). Without a library, or without
 * the FFI permission, every kernel runs on wasm alone.
 */
import { UserError } from "../errors.ts";
import { availableCores } from "../cores.ts";

/** CBLAS's enums (cblas.h). */
export const CBLAS_ROW_MAJOR = 101;
export const CBLAS_NO_TRANS = 111;
export const CBLAS_TRANS = 112;

/** Library names tried, in order, when MBRL_BLAS is unset. */
export const BLAS_CANDIDATES: Readonly<Record<string, readonly string[]>> = {
  linux: [
    "libopenblas.so.0",
    "libopenblas.so",
    "libblis.so.4",
    "libmkl_rt.so.2",
    "libmkl_rt.so",
    "libcblas.so.3",
    "libblas.so.3",
  ],
  darwin: [
    "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
    "/usr/local/opt/openblas/lib/libopenblas.dylib",
  ],
  windows: ["libopenblas.dll", "openblas.dll"],
};

const SYMBOLS = {
  // cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  // Thread-count setters and version strings of the libraries that have them.
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
  bli_thread_set_num_threads: { parameters: ["i64"], result: "void", optional: true },
  MKL_Set_Num_Threads: { parameters: ["i32"], result: "void", optional: true },
} as const satisfies Deno.ForeignLibraryInterface;

type BlasSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** A loaded CBLAS. */
export class Blas {
  #threads: number;

  constructor(
    readonly path: string,
    /** "OpenBLAS 0.3.21 (Haswell)", "Accelerate", ... */
    readonly name: string,
    readonly symbols: BlasSymbols,
  ) {
    this.#threads = symbols.openblas_get_num_threads?.() ?? 1;
  }

  /** Whether the library lets us choose its thread count. */
  get canSetThreads(): boolean {
    const s = this.symbols;
    return Boolean(
      s.openblas_set_num_threads ?? s.bli_thread_set_num_threads ?? s.MKL_Set_Num_Threads,
    );
  }

  /** Threads the library uses per call, as last set here (or as it started). */
  get threads(): number {
    return this.#threads;
  }

  /**
   * Sets the library's threads per call. The setting is process-wide: worker threads that each
   * run BLAS (the stage pool) set it to one per worker before they start.
   */
  setThreads(threads: number): void {
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`BLAS threads must be a positive integer, got ${threads}`);
    }
    const s = this.symbols;
    if (s.openblas_set_num_threads) s.openblas_set_num_threads(threads);
    else if (s.bli_thread_set_num_threads) s.bli_thread_set_num_threads(BigInt(threads));
    else if (s.MKL_Set_Num_Threads) s.MKL_Set_Num_Threads(threads);
    else return;
    this.#threads = threads;
  }

  /**
   * C = alpha op(A) op(B) + beta C, row-major, where op(A) is [m, k] and op(B) [k, n]. The arrays
   * are views starting at each matrix's first element.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void {
    this.symbols.cblas_sgemm(
      CBLAS_ROW_MAJOR,
      transA ? CBLAS_TRANS : CBLAS_NO_TRANS,
      transB ? CBLAS_TRANS : CBLAS_NO_TRANS,
      m,
      n,
      k,
      1,
      a,
      lda,
      b,
      ldb,
      beta,
      c,
      ldc,
    );
  }
}

function describeLibrary(path: string, symbols: BlasSymbols): string {
  const config = symbols.openblas_get_config?.();
  if (config) {
    // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"
    const words = new Deno.UnsafePointerView(config).getCString().split(" ");
    const core = words.find((w, i) => i > 1 && /^[A-Z][A-Za-z0-9]+$/.test(w) && !w.includes("_"));
    return `${words.slice(0, 2).join(" ")}${core ? ` (${core})` : ""}`;
  }
  if (path.includes("Accelerate")) return "Accelerate";
  if (symbols.bli_thread_set_num_threads) return "BLIS";
  if (symbols.MKL_Set_Num_Threads) return "MKL";
  return path.split(/[\\/]/).at(-1) ?? path;
}

function open(path: string): Blas {
  const library = Deno.dlopen(path, SYMBOLS);
  return new Blas(path, describeLibrary(path, library.symbols), library.symbols);
}

/** Why no BLAS is in use, for the start-up banner. */
export type BlasAbsence = "off" | "no FFI permission" | "none found";

function hasFfiPermission(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

function blasSetting(): string | undefined {
  try {
    return Deno.env.get("MBRL_BLAS") || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds and loads a CBLAS as MBRL_BLAS says, or returns why there is none. A library named by
 * MBRL_BLAS that cannot be loaded is a user error, not a silent fallback.
 */
export function loadBlas(
  setting = blasSetting(),
  os: string = Deno.build.os,
): Blas | BlasAbsence {
  if (setting === "off") return "off";
  if (!hasFfiPermission()) {
    if (setting) {
      throw new UserError(
        `MBRL_BLAS=${setting} needs the FFI permission (deno run --allow-ffi); ` +
          `MBRL_BLAS=off runs without it`,
      );
    }
    return "no FFI permission";
  }
  if (setting) {
    try {
      return open(setting);
    } catch (error) {
      const reason = (error as Error).message.split("\n")[0];
      const missing = /cblas_sgemm/.test(reason) ? "has no cblas_sgemm" : "cannot be loaded";
      throw new UserError(
        `MBRL_BLAS=${setting}: the library ${missing} (${reason}); MBRL_BLAS=off runs without it`,
      );
    }
  }
  for (const candidate of BLAS_CANDIDATES[os] ?? []) {
    try {
      return open(candidate);
    } catch {
      // Not installed, or not a CBLAS: try the next name.
    }
  }
  return "none found";
}

let active: Blas | null = null;

/** The BLAS the kernels call, or null when they run on wasm alone. */
export function activeBlas(): Blas | null {
  return active;
}

/** Chooses the BLAS the kernels call (null: wasm alone); tests use it to compare both paths. */
export function setActiveBlas(blas: Blas | null): void {
  active = blas;
}

/**
 * Gives each of `workers` threads that call the BLAS at once an equal share of the machine's
 * cores (one each when there are as many workers as cores), so they do not oversubscribe it.
 * The count is process-wide, so the thread that starts the workers sets it; returns a function
 * that restores the previous count. Loads the BLAS here if this thread has not (the workers will).
 */
export function shareBlasThreads(workers: number): () => void {
  let blas = active;
  if (!blas) {
    const loaded = loadBlas();
    blas = typeof loaded === "string" ? null : loaded;
  }
  if (!blas || !blas.canSetThreads) return () => {};
  const cores = availableCores();
  const previous = blas.threads;
  const target = blas;
  target.setThreads(Math.max(1, Math.floor(cores / Math.max(1, workers))));
  return () => target.setThreads(previous);
}
