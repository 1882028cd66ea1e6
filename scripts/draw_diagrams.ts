/**
 * `deno run -A scripts/draw_diagrams.ts`: draws the architecture figures the study notes show
 * (res/world-models-architecture.svg, res/dreamer-training-loop.svg,
 * res/planet-latent-planning.svg).
 */
import { type Diagram, renderDiagram } from "../lib/viz/diagram.ts";
import { saveFigure } from "../lib/viz/plot.ts";

const AGENT = "#eef3fb";
const WORLD = "#f4f4f4";
const MODEL = "#fdf1e3";

/** Ha & Schmidhuber (2018), Figure "Flow diagram of our Agent model". */
const worldModels: Diagram = {
  width: 760,
  height: 340,
  title: "World Models: vision (V), memory (M) and a small controller (C)",
  boxes: [
    {
      id: "env",
      x: 105,
      y: 180,
      width: 150,
      height: 64,
      lines: ["Environment", "CarRacing, TakeCover"],
      fill: WORLD,
      dashed: true,
    },
    {
      id: "v",
      x: 330,
      y: 100,
      width: 190,
      height: 64,
      lines: ["V: VAE", "64×64×3 frame → z (32 or 64)"],
      fill: MODEL,
    },
    {
      id: "m",
      x: 600,
      y: 100,
      width: 220,
      height: 64,
      lines: ["M: MDN-RNN", "P(z_t+1 | a_t, z_t, h_t)"],
      fill: MODEL,
    },
    {
      id: "c",
      x: 600,
      y: 250,
      width: 220,
      height: 64,
      lines: ["C: linear controller", "a_t = W [z_t, h_t] + b"],
      fill: AGENT,
    },
  ],
  arrows: [
    { from: "env", to: "v", label: "observation" },
    { from: "v", to: "m", label: "z_t" },
    { from: "v", to: "c", label: "z_t" },
    { from: "m", to: "c", label: "h_t" },
    { from: "c", to: "env", label: "action a_t" },
  ],
  notes: [
    {
      x: 16,
      y: 306,
      text:
        "V and M are trained without rewards; only C's 867 to 1,088 parameters are evolved (CMA-ES).",
    },
  ],
};

/** Hafner et al. (2020, 2021): the three interleaved parts of Dreamer. */
const dreamer: Diagram = {
  width: 760,
  height: 370,
  title: "Dreamer: learn the model, learn behaviour in imagination, act",
  boxes: [
    {
      id: "data",
      x: 115,
      y: 195,
      width: 180,
      height: 64,
      lines: ["Experience dataset", "real episodes"],
      fill: WORLD,
    },
    {
      id: "model",
      x: 380,
      y: 90,
      width: 220,
      height: 64,
      lines: ["World model", "learned from sequences"],
      fill: MODEL,
    },
    {
      id: "actor",
      x: 645,
      y: 195,
      width: 190,
      height: 64,
      lines: ["Actor and critic", "learned in imagination"],
      fill: AGENT,
    },
    {
      id: "env",
      x: 380,
      y: 300,
      width: 220,
      height: 64,
      lines: ["Environment", "the actor collects episodes"],
      fill: WORLD,
      dashed: true,
    },
  ],
  arrows: [
    { from: "data", to: "model", label: "sequences" },
    { from: "model", to: "actor", label: "imagined trajectories" },
    { from: "actor", to: "env", label: "policy" },
    { from: "env", to: "data", label: "new experience" },
  ],
  notes: [
    {
      x: 16,
      y: 356,
      text: "A wrong model yields a poor policy, whose real episodes then correct the model.",
    },
  ],
};

/** Hafner et al. (2019): planning with CEM in the latent space of a recurrent state-space model. */
const planet: Diagram = {
  width: 760,
  height: 340,
  title: "PlaNet: plan in a learned latent space, no policy network",
  boxes: [
    {
      id: "env",
      x: 105,
      y: 180,
      width: 150,
      height: 64,
      lines: ["Environment", "cartpole swing-up"],
      fill: WORLD,
      dashed: true,
    },
    {
      id: "encoder",
      x: 320,
      y: 100,
      width: 190,
      height: 64,
      lines: ["Encoder", "o_t → posterior state"],
      fill: MODEL,
    },
    {
      id: "rssm",
      x: 590,
      y: 100,
      width: 250,
      height: 78,
      lines: ["RSSM", "deterministic h_t (GRU) +", "stochastic s_t, reward head"],
      fill: MODEL,
    },
    {
      id: "cem",
      x: 590,
      y: 255,
      width: 250,
      height: 78,
      lines: ["CEM planner", "1000 action sequences, 12 steps,", "refit to the best 100, 10 times"],
      fill: AGENT,
    },
  ],
  arrows: [
    { from: "env", to: "encoder", label: "o_t" },
    { from: "encoder", to: "rssm", label: "latent state" },
    { from: "rssm", to: "cem", label: "imagined returns" },
    { from: "cem", to: "env", label: "first action a_t" },
  ],
  notes: [
    {
      x: 16,
      y: 322,
      text:
        "Every step re-plans from the current latent state, so a better model gives better actions at once.",
    },
  ],
};

for (
  const [name, diagram] of [
    ["world-models-architecture", worldModels],
    ["dreamer-training-loop", dreamer],
    ["planet-latent-planning", planet],
  ] as const
) {
  const path = await saveFigure(renderDiagram(diagram), `res/${name}.svg`);
  console.log(`wrote ${path}`);
}
