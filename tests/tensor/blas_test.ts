/**
 * The BLAS path of lib/tensor: loading (and refusing) a library, `cblas_sgemm` against a plain
 * triple loop, and every kernel that calls it against the JavaScript CPU backend, forward and
 * backward, on odd sizes, stride 2, batch 1 and broadcast batches. Shapes the BLAS kernels do not
 * take must reach the wasm kernel and still be right. Without a BLAS on the machine these tests
 * say so and check the wasm path alone.
 */
import assert from "node:assert/strict";
import { activeBlas, tf } from "../../lib/tensor/mod.ts";
import { loadBlas, shareBlasThreads } from "../../lib/tensor/blas.ts";
import { UserError } from "../../lib/errors.ts";
import { assertAllClose, type Tolerance, valuesOn, withBlas } from "../../lib/tensor/testing.ts";
import { Rng } from "../../lib/rng.ts";

const blas = activeBlas();
if (!blas) console.error("blas_test: no BLAS found; checking the wasm kernels only");

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(new Rng(seed).fillNormal(new Float32Array(size)), shape);
}

interface CompareOptions {
  tolerance?: Tolerance;
  /** What the CPU backend computes instead of `build`, where its kernel differs. */
  reference?: () => tf.Tensor | tf.Tensor[];
  /** Check the BLAS path only: TensorFlow.js's own wasm kernel refuses this case. */
  blasOnly?: boolean;
}

/** Compares `build` on wasm (with the BLAS, then without) against the CPU backend. */
async function compareWithCpu(
  label: string,
  build: () => tf.Tensor | tf.Tensor[],
  options: CompareOptions = {},
): Promise<void> {
  const tolerance = options.tolerance ?? { relative: 1e-5, absolute: 1e-5 };
  const cpu = await valuesOn("cpu", options.reference ?? build);
  const paths = options.blasOnly ? (blas ? [blas] : []) : blas ? [blas, null] : [null];
  for (const path of paths) {
    const wasm = await withBlas(path, () => valuesOn("wasm", build));
    wasm.forEach((out, i) => {
      const where = `${label} (${path ? "BLAS" : "wasm alone"}) output ${i}`;
      assert.deepEqual(out.shape, cpu[i].shape, `${where} shape`);
      assertAllClose(out.values, cpu[i].values, tolerance, where);
    });
  }
}

Deno.test("loading a BLAS", async (t) => {
  await t.step("MBRL_BLAS=off runs without one", () => {
    assert.equal(loadBlas("off"), "off");
  });
  await t.step("a missing library is one line naming it and the way out", () => {
    assert.throws(
      () => loadBlas("/nonexistent/libnothing.so"),
      (error: Error) =>
        error instanceof UserError && error.message.includes("/nonexistent/libnothing.so") &&
        error.message.includes("MBRL_BLAS=off") && !error.message.includes("\n"),
    );
  });
  await t.step("a library without cblas_sgemm is refused by name", () => {
    const libm = Deno.build.os === "linux" ? "libm.so.6" : null;
    if (!libm) return;
    assert.throws(
      () => loadBlas(libm),
      (error: Error) =>
        error instanceof UserError && error.message.includes("has no cblas_sgemm") &&
        error.message.includes("MBRL_BLAS=off"),
    );
  });
  await t.step("the CLI stops at start with that line", async () => {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "lib/cli.ts", "dyna-maze", "--budget", "quick", "--out", "/tmp/x"],
      env: { MBRL_BLAS: "/nonexistent/libnothing.so", NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr).trim();
    assert.equal(code, 2, text);
    assert.match(text, /^error: MBRL_BLAS=\/nonexistent\/libnothing\.so: .*MBRL_BLAS=off/);
    assert.equal(text.split("\n").length, 1, text);
  });
});

Deno.test("cblas_sgemm matches a triple loop", async (t) => {
  if (!blas) return;
  const rng = new Rng(3);
  for (const [m, n, k] of [[1, 1, 1], [7, 5, 3], [33, 17, 65], [2, 129, 4]]) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      await t.step(`${m}x${k} * ${k}x${n} transA ${transA} transB ${transB}`, () => {
        const a = rng.fillNormal(new Float32Array(m * k)) as Float32Array;
        const b = rng.fillNormal(new Float32Array(k * n)) as Float32Array;
        const c = new Float32Array(m * n).fill(1);
        blas.sgemm(transA, transB, m, n, k, a, transA ? m : k, b, transB ? k : n, 0, c, n);
        const expected = new Float32Array(m * n);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let p = 0; p < k; p++) {
              sum += (transA ? a[p * m + i] : a[i * k + p]) *
                (transB ? b[j * k + p] : b[p * n + j]);
            }
            expected[i * n + j] = sum;
          }
        }
        assertAllClose(c, expected, { relative: 1e-5, absolute: 1e-5 });
      });
    }
  }
});

Deno.test("BatchMatMul and _FusedMatMul on BLAS match the CPU backend", async (t) => {
  const products: [number[], number[], boolean, boolean][] = [
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[1, 1], [1, 1], false, false],
    [[3, 1, 9], [3, 9, 2], false, false],
    [[4, 5, 7], [4, 3, 5], true, true],
    // A shared right operand (a dense layer on a 3-D input), and a shared left one.
    [[2, 6, 5], [5, 4], false, false],
    [[2, 5, 6], [4, 5], true, true],
    [[6, 5], [3, 5, 4], false, false],
  ];
  for (const [aShape, bShape, transposeA, transposeB] of products) {
    const label = `[${aShape}]${transposeA ? "^T" : ""} x [${bShape}]${transposeB ? "^T" : ""}`;
    await t.step(label, () =>
      compareWithCpu(
        label,
        () => tf.matMul(randomTensor(aShape, 1), randomTensor(bShape, 2), transposeA, transposeB),
      ));
  }
  // Batch axes [2, 1] against [1, 3]: TensorFlow.js's CPU and wasm kernels compute only
  // max(2, 3) of the six products, so the reference multiplies operands tiled to [2, 3] first.
  for (const [transposeA, transposeB] of [[false, false], [true, true]]) {
    await t.step(`batch axes [2, 1] x [1, 3], transposes ${transposeA} ${transposeB}`, () => {
      const a = () => randomTensor(transposeA ? [2, 1, 3, 4] : [2, 1, 4, 3], 1);
      const b = () => randomTensor(transposeB ? [1, 3, 5, 3] : [1, 3, 3, 5], 2);
      return compareWithCpu(
        "broadcast batches",
        () => tf.matMul(a(), b(), transposeA, transposeB),
        {
          blasOnly: true,
          reference: () =>
            tf.matMul(
              tf.tile(a(), [1, 3, 1, 1]),
              tf.tile(b(), [2, 1, 1, 1]),
              transposeA,
              transposeB,
            ),
        },
      );
    });
  }
  const activations = ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu", "prelu"] as const;
  for (const activation of activations) {
    await t.step(
      `fused with a bias and ${activation}`,
      () =>
        compareWithCpu(`fused ${activation}`, () =>
          tf.fused.matMul({
            a: randomTensor([9, 6], 3),
            b: randomTensor([6, 4], 4),
            bias: randomTensor([4], 5),
            activation,
            preluActivationWeights: activation === "prelu" ? randomTensor([4], 6) : undefined,
            leakyreluAlpha: 0.3,
          })),
    );
  }
  await t.step(
    "fused with a scalar bias and transposed operands",
    () =>
      compareWithCpu("fused scalar bias", () =>
        tf.fused.matMul({
          a: randomTensor([6, 9], 3),
          b: randomTensor([4, 6], 4),
          transposeA: true,
          transposeB: true,
          bias: tf.scalar(0.7),
          activation: "relu",
        }), { blasOnly: true }),
  );
  await t.step(
    "fused with a rank-2 bias, added by the wasm Add kernel",
    () =>
      compareWithCpu("fused [m, n] bias", () =>
        tf.fused.matMul({
          a: randomTensor([5, 6], 3),
          b: randomTensor([6, 4], 4),
          bias: randomTensor([5, 4], 5),
          activation: "elu",
        }), { blasOnly: true }),
  );
  await t.step(
    "gradients of a fused dense layer with ReLU",
    () =>
      compareWithCpu("fused dense gradients", () => {
        const loss = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.fused.matMul({
            a: x as tf.Tensor2D,
            b: w as tf.Tensor2D,
            bias: b,
            activation: "relu",
          })));
        return tf.grads(loss)([
          randomTensor([9, 6], 3),
          randomTensor([6, 4], 4),
          randomTensor([4], 5),
        ]);
      }),
  );
});

interface ConvCase {
  input: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: "valid" | "same";
}

const CONV_CASES: ConvCase[] = [
  { input: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: "valid" },
  { input: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: "same" },
  { input: [3, 10, 11, 2], filter: [4, 4, 2, 5], strides: 2, pad: "valid" },
  { input: [2, 8, 7, 3], filter: [2, 3, 3, 4], strides: [2, 3], pad: "same" },
  { input: [1, 7, 7, 40], filter: [3, 3, 40, 3], strides: 1, pad: "same" },
  { input: [1, 3, 3, 2], filter: [5, 5, 2, 2], strides: 1, pad: "same" },
  // The World Models encoder's first layer at batch 2, and a decoder-sized stride-2 layer.
  { input: [2, 64, 64, 3], filter: [4, 4, 3, 8], strides: 2, pad: "valid" },
  { input: [1, 13, 13, 64], filter: [6, 6, 64, 32], strides: 2, pad: "valid" },
];

function describe(c: ConvCase): string {
  return `x[${c.input}] w[${c.filter}] strides ${c.strides} ${c.pad}`;
}

Deno.test("convolutions on BLAS match the CPU backend", async (t) => {
  const tolerance = { relative: 2e-5, absolute: 2e-5 };
  for (const c of CONV_CASES) {
    await t.step(
      `conv2d and its gradients, ${describe(c)}`,
      () =>
        compareWithCpu(describe(c), () => {
          const x = randomTensor(c.input, 1);
          const w = randomTensor(c.filter, 2);
          const forward = (xv: tf.Tensor, wv: tf.Tensor) =>
            tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, c.strides, c.pad);
          const y = forward(x, w);
          const dy = randomTensor(y.shape, 3);
          const loss = (xv: tf.Tensor, wv: tf.Tensor) => tf.sum(tf.mul(forward(xv, wv), dy));
          return [y, ...tf.grads(loss)([x, w])];
        }, { tolerance }),
    );
    await t.step(
      `fused conv2d with bias and ReLU, ${describe(c)}`,
      () =>
        compareWithCpu(describe(c), () =>
          tf.fused.conv2d({
            x: randomTensor(c.input, 1) as tf.Tensor4D,
            filter: randomTensor(c.filter, 2) as tf.Tensor4D,
            strides: c.strides,
            pad: c.pad,
            bias: randomTensor([c.filter[3]], 3),
            activation: "relu",
          }), { tolerance }),
    );
  }
  await t.step(
    "a transposed convolution as the VAE decoder's",
    () =>
      compareWithCpu("conv2dTranspose", () => {
        const x = randomTensor([2, 5, 5, 8], 1) as tf.Tensor4D;
        const w = randomTensor([5, 5, 4, 8], 2) as tf.Tensor4D;
        return tf.conv2dTranspose(x, w, [2, 13, 13, 4], 2, "valid");
      }, { tolerance }),
  );
  await t.step(
    "dilation 2 goes to the wasm kernel",
    () =>
      compareWithCpu("dilated", () =>
        tf.conv2d(
          randomTensor([1, 9, 9, 2], 1) as tf.Tensor4D,
          randomTensor([3, 3, 2, 3], 2) as tf.Tensor4D,
          1,
          "valid",
          "NHWC",
          2,
        ), { tolerance }),
  );
});

Deno.test("the BLAS kernels release what they allocate", () => {
  if (!blas) return;
  const x = randomTensor([2, 12, 12, 3], 1) as tf.Tensor4D;
  const w = randomTensor([4, 4, 3, 5], 2) as tf.Tensor4D;
  const step = () =>
    tf.tidy(() => {
      const grads = tf.grads((xv: tf.Tensor, wv: tf.Tensor) =>
        tf.sum(tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, 2, "valid"))
      )([x, w]);
      return tf.sum(tf.add(tf.sum(grads[0]), tf.sum(grads[1])));
    }).dispose();
  step();
  const backend = tf.engine().backend;
  const before = [tf.memory().numTensors, backend.numDataIds()];
  for (let i = 0; i < 20; i++) step();
  assert.deepEqual([tf.memory().numTensors, backend.numDataIds()], before);
  tf.dispose([x, w]);
});

Deno.test("workers that call the BLAS at once share the cores", () => {
  if (!blas?.canSetThreads) return;
  const before = blas.threads;
  const cores = navigator.hardwareConcurrency;
  const restore = shareBlasThreads(cores);
  assert.equal(blas.threads, 1);
  restore();
  assert.equal(blas.threads, before);
  const restoreOne = shareBlasThreads(1);
  assert.equal(blas.threads, cores);
  restoreOne();
  assert.equal(blas.threads, before);
});
