/**
 * Pixel observations for pixel-based agents (World Models, PlaNet, Dreamer): wraps an environment
 * with a `render` so that its observation is the rendered RGB image instead of the state, as
 * dm_control's `pixels.Wrapper` and Gymnasium's `AddRenderObservation` do. The image buffer is
 * reused on every step.
 */

import { imageBuffer, type Renderable } from "./render.ts";
import {
  type Action,
  type ActionSpec,
  type BoxSpec,
  boxSpec,
  type Env,
  type StepResult,
} from "./types.ts";

export class PixelObservationEnv implements Env<Uint8Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly #pixels: Uint8Array;
  readonly #result: StepResult<Uint8Array>;
  #lastState: Float32Array = new Float32Array(0);

  /** `size`: the image's height and width in pixels. */
  constructor(readonly inner: Env<Float32Array> & Renderable, readonly size = 64) {
    this.id = `${inner.id}/pixels`;
    this.observationSpec = boxSpec([size, size, 3], 0, 255, "uint8");
    this.#pixels = imageBuffer(this.id, undefined, size);
    this.#result = { observation: this.#pixels, reward: 0, terminated: false, truncated: false };
  }

  get actionSpec(): ActionSpec {
    return this.inner.actionSpec;
  }

  get maxEpisodeSteps(): number {
    return this.inner.maxEpisodeSteps;
  }

  /** The wrapped environment's own observation of the same step (empty before the first reset). */
  get stateObservation(): Float32Array {
    return this.#lastState;
  }

  reset(seed?: number): Uint8Array {
    this.#lastState = this.inner.reset(seed);
    return this.inner.render(this.#pixels, this.size);
  }

  step(action: Action): StepResult<Uint8Array> {
    const inner = this.inner.step(action);
    this.#lastState = inner.observation;
    this.inner.render(this.#pixels, this.size);
    const result = this.#result;
    result.reward = inner.reward;
    result.terminated = inner.terminated;
    result.truncated = inner.truncated;
    return result;
  }
}
