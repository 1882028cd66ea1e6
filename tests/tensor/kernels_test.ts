/**
 * The wasm kernels of lib/tensor/kernels against the JavaScript CPU backend's reference
 * implementations: kernel outputs and the gradients they produce, element by element, over
 * several shapes, strides and paddings. Then every op the world models train through, forward
 * and backward on wasm against CPU, so a kernel missing from a later tfjs build shows up here.
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { assertAllClose, type Tolerance, valuesOn } from "../../lib/tensor/testing.ts";
import { Rng } from "../../lib/rng.ts";

type Pad = "valid" | "same" | [
  [number, number],
  [number, number],
  [number, number],
  [number, number],
];

function randomValues(size: number, seed: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(size)) as Float32Array;
}

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** Runs `build` on wasm and on cpu and compares every output element. */
async function compareBackends(
  label: string,
  build: () => tf.Tensor | tf.Tensor[],
  tolerance: Tolerance = {},
): Promise<void> {
  const wasm = await valuesOn("wasm", build);
  const cpu = await valuesOn("cpu", build);
  assert.equal(wasm.length, cpu.length);
  wasm.forEach((out, i) => {
    assert.deepEqual(out.shape, cpu[i].shape, `${label} output ${i} shape`);
    assertAllClose(out.values, cpu[i].values, tolerance, `${label} output ${i}`);
  });
}

interface ConvCase {
  input: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}

const CONV_CASES: ConvCase[] = [
  { input: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: "valid" },
  { input: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: "same" },
  // (H - KH) not a multiple of the stride: the last input row and column are never read.
  { input: [3, 10, 11, 2], filter: [4, 4, 2, 5], strides: 2, pad: "valid" },
  { input: [2, 8, 7, 3], filter: [2, 3, 3, 4], strides: [2, 3], pad: "same" },
  {
    input: [1, 7, 9, 2],
    filter: [3, 2, 2, 3],
    strides: [1, 2],
    pad: [[0, 0], [1, 2], [2, 0], [
      0,
      0,
    ]],
  },
  { input: [2, 12, 12, 4], filter: [5, 5, 4, 3], strides: 3, pad: "same" },
  { input: [2, 5, 5, 3], filter: [1, 1, 3, 2], strides: 2, pad: "valid" },
  { input: [1, 3, 3, 2], filter: [5, 5, 2, 2], strides: 1, pad: "same" },
  // The World Models encoder's first layer, at batch 2.
  { input: [2, 64, 64, 3], filter: [4, 4, 3, 8], strides: 2, pad: "valid" },
];

function describe(c: ConvCase): string {
  return `x[${c.input}] w[${c.filter}] strides ${c.strides} pad ${JSON.stringify(c.pad)}`;
}

Deno.test("Conv2DBackpropFilter on wasm matches the CPU backend", async (t) => {
  for (const [index, c] of CONV_CASES.entries()) {
    await t.step(describe(c), async () => {
      const build = () => {
        const x = randomTensor(c.input, 10 + index) as tf.Tensor4D;
        const outShape = tf.conv2d(x, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape;
        const dy = randomTensor(outShape, 20 + index);
        return tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
          strides: c.strides,
          pad: c.pad,
          dataFormat: "NHWC",
          filterShape: c.filter,
        }) as tf.Tensor;
      };
      await compareBackends("dW", build);
    });
  }

  await t.step("NCHW data format", async () => {
    await compareBackends("dW NCHW", () => {
      const x = randomTensor([2, 3, 9, 8], 1);
      const dy = randomTensor([2, 4, 4, 3], 2);
      return tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: 2,
        pad: "valid",
        dataFormat: "NCHW",
        filterShape: [3, 4, 3, 4],
      }) as tf.Tensor;
    });
  });

  await t.step("dilations other than 1 are refused with a clear message", async () => {
    await assert.rejects(
      valuesOn("wasm", () =>
        tf.engine().runKernel("Conv2DBackpropFilter", {
          x: tf.ones([1, 5, 5, 1]),
          dy: tf.ones([1, 3, 3, 1]),
        }, {
          strides: 1,
          pad: "valid",
          dataFormat: "NHWC",
          filterShape: [2, 2, 1, 1],
          dilations: 2,
        }) as tf.Tensor),
      /dilations 2 are not supported/,
    );
  });

  await t.step("the comparison catches a filter gradient with kh and kw swapped", async () => {
    const c = CONV_CASES[1];
    const build = () => {
      const x = randomTensor(c.input, 3) as tf.Tensor4D;
      const dy = randomTensor(tf.conv2d(x, tf.zeros(c.filter) as tf.Tensor4D, 2, "same").shape, 4);
      return tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: 2,
        pad: "same",
        dataFormat: "NHWC",
        filterShape: c.filter,
      }) as tf.Tensor;
    };
    const [right] = await valuesOn("cpu", build);
    const [swapped] = await valuesOn("wasm", () => tf.transpose(build(), [1, 0, 2, 3]));
    assert.throws(() => assertAllClose(swapped.values, right.values), /element \d+ is/);
  });
});

Deno.test("conv2d gradients on wasm match the CPU backend", async (t) => {
  for (const [index, c] of CONV_CASES.entries()) {
    await t.step(describe(c), async () => {
      await compareBackends("conv2d grads", () => {
        const x = randomTensor(c.input, 30 + index) as tf.Tensor4D;
        const w = randomTensor(c.filter, 40 + index) as tf.Tensor4D;
        const y = tf.conv2d(x, w, c.strides, c.pad);
        const weights = randomTensor(y.shape, 50 + index);
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), weights))
        );
        return [y, ...grads([x, w])];
      });
    });
  }
});

interface TransposeCase {
  input: [number, number, number, number];
  filter: [number, number, number, number];
  output: [number, number, number, number];
  strides: number | [number, number];
  pad: "valid" | "same";
}

const TRANSPOSED_CASES: TransposeCase[] = [
  // The World Models decoder's layers, narrow and at batch 2.
  { input: [2, 1, 1, 16], filter: [5, 5, 8, 16], output: [2, 5, 5, 8], strides: 2, pad: "valid" },
  { input: [2, 5, 5, 8], filter: [5, 5, 4, 8], output: [2, 13, 13, 4], strides: 2, pad: "valid" },
  { input: [2, 13, 13, 4], filter: [6, 6, 5, 4], output: [2, 30, 30, 5], strides: 2, pad: "valid" },
  { input: [2, 30, 30, 5], filter: [6, 6, 3, 5], output: [2, 64, 64, 3], strides: 2, pad: "valid" },
  { input: [2, 4, 4, 3], filter: [3, 3, 2, 3], output: [2, 8, 8, 2], strides: 2, pad: "same" },
  {
    input: [1, 3, 4, 2],
    filter: [2, 3, 3, 2],
    output: [1, 6, 12, 3],
    strides: [2, 3],
    pad: "same",
  },
  { input: [2, 6, 6, 3], filter: [3, 3, 4, 3], output: [2, 8, 8, 4], strides: 1, pad: "valid" },
];

Deno.test("Conv2DBackpropInput (transposed convolution) on wasm matches the CPU backend", async (t) => {
  for (const [index, c] of TRANSPOSED_CASES.entries()) {
    await t.step(
      `x[${c.input}] w[${c.filter}] -> [${c.output}] ${c.strides} ${c.pad}`,
      async () => {
        await compareBackends("conv2dTranspose and grads", () => {
          const x = randomTensor(c.input, 60 + index) as tf.Tensor4D;
          const w = randomTensor(c.filter, 70 + index) as tf.Tensor4D;
          const apply = (a: tf.Tensor, b: tf.Tensor) =>
            tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, c.output, c.strides, c.pad);
          const y = apply(x, w);
          const weights = randomTensor(y.shape, 80 + index);
          const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.mul(apply(a, b), weights))
          );
          return [y, ...grads([x, w])];
        });
      },
    );
  }
});

Deno.test("BatchMatMul with transposed operands on wasm matches the CPU backend", async (t) => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[4, 5, 7], [4, 3, 5], true, true],
    [[2, 6, 5], [5, 4], false, false],
    [[2, 5, 6], [4, 5], true, true],
  ];
  for (const [aShape, bShape, transposeA, transposeB] of cases) {
    await t.step(
      `[${aShape}]${transposeA ? "^T" : ""} x [${bShape}]${transposeB ? "^T" : ""}`,
      () =>
        compareBackends(
          "matMul",
          () => tf.matMul(randomTensor(aShape, 1), randomTensor(bShape, 2), transposeA, transposeB),
          { relative: 1e-5, absolute: 1e-5 },
        ),
    );
  }
  await t.step("gradients of a dense layer", () =>
    compareBackends("dense gradients", () => {
      const x = randomTensor([9, 6], 3);
      const w = randomTensor([6, 4], 4);
      const loss = (xv: tf.Tensor, wv: tf.Tensor) => tf.sum(tf.square(tf.matMul(xv, wv)));
      return tf.grads(loss)([x, w]);
    }, { relative: 1e-5, absolute: 1e-5 }));
  await t.step("the transposed copies are released", () => {
    const a = randomTensor([8, 8], 5);
    const backend = tf.engine().backend;
    const before = [tf.memory().numTensors, backend.numDataIds()];
    for (let i = 0; i < 10; i++) tf.matMul(a, a, true, true).dispose();
    assert.deepEqual([tf.memory().numTensors, backend.numDataIds()], before);
    a.dispose();
  });
});

Deno.test("UnsortedSegmentSum on wasm matches the CPU backend", async (t) => {
  await t.step("float rows, with ids out of range dropped", async () => {
    await compareBackends("segment sum", () =>
      tf.unsortedSegmentSum(
        randomTensor([6, 4], 1),
        tf.tensor1d([0, 2, 2, -1, 5, 1], "int32"),
        4,
      ));
  });
  await t.step("int32 values", async () => {
    await compareBackends("int segment sum", () =>
      tf.unsortedSegmentSum(
        tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], "int32"),
        tf.tensor1d([1, 1, 0], "int32"),
        3,
      ));
  });
  await t.step("ids of rank 2", async () => {
    // The op takes rank-1 ids only and the CPU kernel fails on others; the kernel is defined
    // for ids shaped like any prefix of x's shape, so check it against the definition.
    const [out] = await valuesOn("wasm", () =>
      tf.engine().runKernel("UnsortedSegmentSum", {
        x: tf.tensor3d([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]),
        segmentIds: tf.tensor2d([[0, 1, 0], [2, 2, 1]], [2, 3], "int32"),
      }, { numSegments: 3 }) as tf.Tensor);
    assert.deepEqual(out.shape, [3, 2]);
    assert.deepEqual([...out.values], [1 + 5, 2 + 6, 3 + 11, 4 + 12, 7 + 9, 8 + 10]);
  });
  await t.step("gradient of gather along axes 0 and 1", async () => {
    await compareBackends("gather grads", () => {
      const params = randomTensor([7, 5], 3);
      const weights0 = randomTensor([4, 5], 4);
      const weights1 = randomTensor([7, 3], 5);
      const g0 = tf.grad((p: tf.Tensor) =>
        tf.sum(tf.mul(tf.gather(p, tf.tensor1d([6, 0, 6, 2], "int32")), weights0))
      )(params);
      const g1 = tf.grad((p: tf.Tensor) =>
        tf.sum(tf.mul(tf.gather(p, tf.tensor1d([4, 4, 1], "int32"), 1), weights1))
      )(params);
      return [g0, g1];
    });
  });
});

Deno.test("kernels run on CPU for wasm (Einsum, depthwise gradients) match", async (t) => {
  await t.step("einsum", async () => {
    await compareBackends(
      "einsum",
      () => tf.einsum("bij,bjk->bik", randomTensor([2, 3, 4], 1), randomTensor([2, 4, 5], 2)),
    );
  });
  await t.step("depthwise convolution gradients", async () => {
    await compareBackends("depthwise grads", () => {
      const x = randomTensor([2, 7, 7, 3], 3) as tf.Tensor4D;
      const w = randomTensor([3, 3, 3, 2], 4) as tf.Tensor4D;
      const weights = randomTensor([2, 4, 4, 6], 5);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same"), weights))
      )([x, w]);
    });
  });
});

/** Forward and backward of every op the MDN-RNN, LSTM/GRU, RSSM and controllers train through. */
const OP_CASES: Record<string, (v: tf.Tensor, other: tf.Tensor) => tf.Tensor> = {
  relu: (v) => tf.relu(v),
  sigmoid: (v) => tf.sigmoid(v),
  tanh: (v) => tf.tanh(v),
  softplus: (v) => tf.softplus(v),
  elu: (v) => tf.elu(v),
  selu: (v) => tf.selu(v),
  leakyRelu: (v) => tf.leakyRelu(v, 0.2),
  logSoftmax: (v, o) => tf.mul(tf.logSoftmax(v), o),
  softmax: (v, o) => tf.mul(tf.softmax(v), o),
  logSumExp: (v) => tf.logSumExp(v, 1),
  exp: (v) => tf.exp(v),
  log: (v) => tf.log(tf.add(tf.abs(v), 0.5)),
  log1p: (v) => tf.log1p(tf.abs(v)),
  sqrt: (v) => tf.sqrt(tf.add(tf.abs(v), 0.5)),
  square: (v) => tf.square(v),
  pow: (v) => tf.pow(tf.add(tf.abs(v), 0.5), tf.scalar(1.5)),
  div: (v, o) => tf.div(o, tf.add(tf.abs(v), 1)),
  maximum: (v, o) => tf.maximum(v, o),
  minimum: (v, o) => tf.minimum(v, o),
  clip: (v) => tf.clipByValue(v, -0.5, 0.5),
  abs: (v) => tf.abs(v),
  mean: (v) => tf.mean(v, 0),
  max: (v) => tf.max(v, 1),
  sumOfProducts: (v, o) => tf.sum(tf.mul(v, o), 1),
  concatSplit: (v, o) => tf.split(tf.concat([v, o], 1), [5, 7], 1)[0],
  slice: (v) => tf.slice(v, [1, 1], [2, 3]),
  stackUnstack: (v, o) => tf.unstack(tf.stack([v, o], 1), 2)[1],
  tile: (v) => tf.tile(v, [2, 1]),
  pad: (v) => tf.pad(v, [[1, 0], [0, 2]]),
  transpose: (v, o) => tf.mul(tf.transpose(v), tf.transpose(o)),
  matMul: (v, o) => tf.matMul(v, tf.transpose(o)),
  batchMatMul: (v, o) => tf.matMul(tf.reshape(v, [2, 2, 6]), tf.reshape(o, [2, 6, 2])),
  gather: (v) => tf.gather(v, tf.tensor1d([3, 0, 3], "int32")),
  oneHotPick: (v) => tf.sum(tf.mul(v, tf.oneHot(tf.tensor1d([0, 5, 2, 2], "int32"), 6)), 1),
  mdnLogLikelihood: (v, o) => {
    // log sum_k pi_k N(y; mu_k, sigma_k) with logits, means and log-sigmas from v.
    const [logits, means, logSigmas] = tf.split(tf.concat([v, o], 1), [4, 4, 4], 1);
    const y = tf.scalar(0.3);
    const logNormal = tf.sub(
      tf.mul(-0.5, tf.square(tf.div(tf.sub(y, means), tf.exp(logSigmas)))),
      tf.add(logSigmas, 0.5 * Math.log(2 * Math.PI)),
    );
    return tf.logSumExp(tf.add(tf.logSoftmax(logits), logNormal), 1);
  },
  lstmCell: (v, o) => {
    const gates = tf.matMul(
      tf.concat([v, o], 1),
      tf.reshape(tf.range(0, 12 * 24), [12, 24]).div(
        288,
      ),
    );
    const [i, f, g, out] = tf.split(gates, 4, 1);
    const c = tf.add(tf.mul(tf.sigmoid(f), o), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    return tf.mul(tf.sigmoid(out), tf.tanh(c));
  },
  whereGreater: (v, o) => tf.where(tf.greater(v, 0), tf.mul(v, o), tf.mul(v, 2)),
  maskFromComparisons: (v, o) =>
    tf.mul(v, tf.cast(tf.logicalAnd(tf.less(v, o), tf.logicalNot(tf.equal(v, 0))), "float32")),
  gaussianKl: (v, o) => {
    // KL(N(v, exp(o)) || N(0, 1)), as in the VAE and RSSM losses.
    return tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, o), tf.square(v)), tf.exp(o)), 1));
  },
};

Deno.test("ops used by the world models: values and gradients on wasm match CPU", async (t) => {
  for (const [name, op] of Object.entries(OP_CASES)) {
    await t.step(name, async () => {
      await compareBackends(name, () => {
        const v = randomTensor([4, 6], 1);
        const other = randomTensor([4, 6], 2);
        const weights = randomTensor(op(v, other).shape, 3);
        // The zero term keeps b on the tape for ops that ignore it.
        const loss = (a: tf.Tensor, b: tf.Tensor) =>
          tf.add(tf.sum(tf.mul(op(a, b), weights)), tf.mul(tf.sum(b), 0));
        return [op(v, other), ...tf.grads(loss)([v, other])];
      }, { relative: 1e-5, absolute: 1e-6 });
    });
  }
});

Deno.test("comparisons inside a loss have zero gradients", async () => {
  const [grad] = await valuesOn("wasm", () => {
    const v = tf.tensor1d([-2, -0.5, 0.5, 3]);
    return tf.grad((x: tf.Tensor) => tf.sum(tf.where(tf.greater(x, 0), x, tf.mul(x, 2))))(v);
  });
  assert.deepEqual([...grad.values], [2, 2, 1, 1]);
});
