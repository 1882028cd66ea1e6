import assert from "node:assert/strict";
import {
  carRacingAction,
  controllerAct,
  controllerInputSize,
  controllerParameterCount,
  type ControllerShape,
  takeCoverMove,
  writeControllerInput,
} from "../../lib/agents/world_models_controller.ts";

const carRacing = (features: ControllerShape["features"]): ControllerShape => ({
  latentSize: 32,
  rnnSize: 256,
  actionSize: 3,
  features,
  hiddenLayerSize: 40,
});

Deno.test("World Models controller", async (t) => {
  await t.step(
    "parameter counts: the paper's 867 for CarRacing, 1,088 weights for TakeCover",
    () => {
      assert.equal(controllerParameterCount(carRacing("zh")), 867);
      assert.equal(controllerParameterCount(carRacing("z")), 3 * 32 + 3);
      assert.equal(controllerParameterCount(carRacing("z-hidden")), 40 * 32 + 40 + 3 * 40 + 3);
      const takeCover: ControllerShape = {
        latentSize: 64,
        rnnSize: 512,
        actionSize: 1,
        features: "zch",
        hiddenLayerSize: 40,
      };
      // [z, c, h] has 64 + 512 + 512 = 1,088 inputs: the paper's count is its weights.
      assert.equal(controllerInputSize(takeCover), 1088);
      assert.equal(controllerParameterCount(takeCover), 1089);
    },
  );

  await t.step("acts as tanh(W [z, h] + b), W row-major, bias last", () => {
    const shape: ControllerShape = {
      latentSize: 2,
      rnnSize: 1,
      actionSize: 2,
      features: "zh",
      hiddenLayerSize: 0,
    };
    const input = new Float32Array(3);
    writeControllerInput(
      shape,
      Float32Array.of(1, 2),
      Float32Array.of(3),
      Float32Array.of(9),
      input,
    );
    assert.deepEqual([...input], [1, 2, 3]);
    const theta = [0.1, 0.2, 0.3, -0.1, 0, 0.05, 0.5, -0.2];
    const out = controllerAct(shape, theta, input, new Float32Array(2));
    assert.ok(Math.abs(out[0] - Math.tanh(0.1 + 0.4 + 0.9 + 0.5)) < 1e-6);
    assert.ok(Math.abs(out[1] - Math.tanh(-0.1 + 0 + 0.15 - 0.2)) < 1e-6);
    const zch: ControllerShape = { ...shape, features: "zch", actionSize: 1 };
    const input2 = new Float32Array(4);
    writeControllerInput(
      zch,
      Float32Array.of(1, 2),
      Float32Array.of(3),
      Float32Array.of(9),
      input2,
    );
    assert.deepEqual([...input2], [1, 2, 9, 3]);
  });

  await t.step("the hidden-layer variant matches a hand computation", () => {
    const shape: ControllerShape = {
      latentSize: 2,
      rnnSize: 0,
      actionSize: 1,
      features: "z-hidden",
      hiddenLayerSize: 2,
    };
    // W1 [[1, 0], [0, -1]], b1 [0.5, 0], W2 [2, 1], b2 [-0.3].
    const theta = [1, 0, 0, -1, 0.5, 0, 2, 1, -0.3];
    assert.equal(theta.length, controllerParameterCount(shape));
    const out = controllerAct(shape, theta, Float32Array.of(0.2, 0.4), new Float32Array(1));
    const expected = Math.tanh(2 * Math.tanh(0.7) + Math.tanh(-0.4) - 0.3);
    assert.ok(Math.abs(out[0] - expected) < 1e-6);
  });

  await t.step("action maps follow the paper's code", () => {
    const out = carRacingAction(Float32Array.of(-0.5, -1, -0.2), new Float32Array(3));
    assert.deepEqual([...out], [-0.5, 0, 0]);
    carRacingAction(Float32Array.of(0.9, 1, 0.4), out);
    assert.ok(Math.abs(out[0] - 0.9) < 1e-6 && out[1] === 1 && Math.abs(out[2] - 0.4) < 1e-6);
    assert.equal(takeCoverMove(-0.5), -1);
    assert.equal(takeCoverMove(0.2), 0);
    assert.equal(takeCoverMove(0.34), 1);
  });
});
