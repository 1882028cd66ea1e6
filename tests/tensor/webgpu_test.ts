/**
 * The WebGPU backend (`MBRL_BACKEND=webgpu`, TensorFlow.js's backend on Deno's built-in
 * navigator.gpu) against the CPU backend on the models' training computations, at small sizes:
 * the losses and gradients of a narrow VAE, an MDN-RNN and an RSSM. On a machine without a GPU the
 * adapter is a software one (llvmpipe), correct but slow, so this checks correctness only. Skipped
 * where Deno finds no adapter, unless MBRL_REQUIRE_WEBGPU=1 (as CI sets).
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { assertAllClose, valuesOn } from "../../lib/tensor/testing.ts";
import { Rng } from "../../lib/rng.ts";
import { ConvVae, narrowVaeConfig } from "../../lib/models/vae.ts";
import { MdnRnn } from "../../lib/models/mdn_rnn.ts";
import { Rssm } from "../../lib/models/rssm.ts";

const adapter = await (navigator as { gpu?: GPU }).gpu?.requestAdapter().catch(() => null);
const required = Deno.env.get("MBRL_REQUIRE_WEBGPU") === "1";
if (!adapter && !required) console.error("webgpu_test: no WebGPU adapter here; skipped");

/**
 * The values of `build`'s tensors on WebGPU and on CPU, compared element by element. The CPU runs
 * first: a variable last used on WebGPU could only move back to another backend by a synchronous
 * read.
 */
async function matchesCpu(label: string, build: () => tf.Tensor[]): Promise<void> {
  const cpu = await valuesOn("cpu", build);
  const gpu = await valuesOn("webgpu", build);
  assert.equal(gpu.length, cpu.length);
  gpu.forEach((out, i) =>
    assertAllClose(out.values, cpu[i].values, { relative: 2e-4, absolute: 1e-5 }, `${label} ${i}`)
  );
}

/** Loss and gradients of every parameter, as a list of tensors. */
function lossAndGradients(variables: tf.Variable[], loss: () => tf.Scalar): tf.Tensor[] {
  const { value, grads } = tf.variableGrads(loss, variables);
  return [value, ...variables.map((v) => grads[v.name])];
}

Deno.test({
  name: "WebGPU computes the models' losses and gradients as the CPU backend does",
  ignore: !adapter && !required,
  fn: async (t) => {
    assert.ok(adapter, "MBRL_REQUIRE_WEBGPU=1 but Deno found no WebGPU adapter");
    await t.step("a narrow VAE on 64x64 frames", () => {
      const vae = new ConvVae(narrowVaeConfig(1 / 16, { latentSize: 4 }), new Rng(0));
      const rng = new Rng(1);
      const frames = Float32Array.from({ length: 2 * 64 * 64 * 3 }, () => rng.next());
      return matchesCpu(
        "vae",
        () =>
          lossAndGradients(
            vae.params.list(),
            () => vae.losses(tf.tensor4d(frames, [2, 64, 64, 3]), 7).loss,
          ),
      ).finally(() => vae.dispose());
    });
    await t.step("an MDN-RNN on a short sequence", () => {
      const model = new MdnRnn({
        latentSize: 3,
        actionSize: 2,
        hiddenSize: 8,
        numMixtures: 2,
        predictDone: true,
        episodeStartInput: false,
        doneLossWeight: 10,
      }, new Rng(0));
      const rng = new Rng(2);
      const inputs = rng.fillNormal(new Float32Array(2 * 4 * 5)) as Float32Array;
      const targets = rng.fillNormal(new Float32Array(2 * 4 * 3)) as Float32Array;
      return matchesCpu("mdn-rnn", () =>
        lossAndGradients(model.params.list(), () => {
          const state = model.lstm.zeroState(2);
          return model.loss({
            inputs: tf.tensor3d(inputs, [2, 4, 5]),
            targets: tf.tensor3d(targets, [2, 4, 3]),
            done: tf.zeros([2, 4]) as tf.Tensor2D,
            mask: tf.ones([2, 4]) as tf.Tensor2D,
          }, state).loss;
        })).finally(() => model.dispose());
    });
    await t.step("an RSSM on state vectors", () => {
      const model = new Rssm({
        observation: { kind: "vector", size: 3 },
        actionSize: 1,
        deterministicSize: 6,
        stochasticSize: 2,
        hiddenSize: 6,
        embedSize: 6,
        convDepth: 4,
        minStd: 0.1,
        freeNats: 0,
      }, new Rng(0));
      const rng = new Rng(3);
      const observations = rng.fillNormal(new Float32Array(2 * 3 * 3)) as Float32Array;
      const noise = rng.fillNormal(new Float32Array(2 * 3 * 2)) as Float32Array;
      return matchesCpu("rssm", () =>
        lossAndGradients(model.params.list(), () =>
          model.loss({
            observations: tf.tensor3d(observations, [2, 3, 3]),
            actions: tf.fill([2, 3, 1], 0.5) as tf.Tensor3D,
            rewards: tf.fill([2, 3], 1) as tf.Tensor2D,
          }, tf.tensor3d(noise, [2, 3, 2])).total)).finally(() => model.dispose());
    });
  },
});
