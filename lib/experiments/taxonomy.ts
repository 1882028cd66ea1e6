/**
 * Where an experiment sits in the map of Moerland, Broekens, Plaat & Jonker (2020), "Model-based
 * Reinforcement Learning: A Survey" (arXiv:2006.16712): Section 4 on learning the model (what is
 * learned, and how it is represented) and Section 5 on integrating planning and learning (at
 * which state planning starts, how much budget it gets, how it plans, and whether its output
 * serves acting or learning). Each experiment declares its own place; the table and the figure of
 * the map are drawn from those declarations, so a new experiment appears on the map by itself.
 */
import * as Plot from "@observablehq/plot";
import { renderPlot } from "../viz/plot.ts";

/** Section 4: whether the transition function is given, learned, or not used at all. */
export type ModelSource =
  | "none (model-free)"
  | "known rules"
  | "learned"
  | "not a method (a table of other results)";

/** Section 4: the space the learned model predicts in. */
export type ModelRepresentation =
  | "none"
  | "tabular"
  | "observation space"
  | "latent state"
  | "latent, value-equivalent"
  | "latent, discrete codes";

/** Section 5, "at which state do we start planning?". */
export type PlanningStart =
  | "no planning"
  | "current state"
  | "previously visited states"
  | "start states of the task";

/** Section 5, "how to plan?": the search the planner runs. */
export type PlanningSearch =
  | "none"
  | "one-step samples (Q-planning)"
  | "random shooting / CEM"
  | "tree search (MCTS)"
  | "gradients through imagined rollouts"
  | "policy gradient in imagination"
  | "evolution of a policy in the model";

/** Section 5, "how to integrate planning in the learning and acting loop?". */
export type PlanningServes = "nothing" | "acting" | "learning" | "acting and learning";

export interface SurveyPlace {
  model: ModelSource;
  /** What the model predicts, e.g. "next observation, reward, termination". */
  modelPredicts: string;
  representation: ModelRepresentation;
  planningStart: PlanningStart;
  /** Section 5, "how much budget for planning?": in the experiment's own units. */
  planningBudget: string;
  search: PlanningSearch;
  serves: PlanningServes;
}

export const NO_PLANNING: Pick<
  SurveyPlace,
  "planningStart" | "planningBudget" | "search" | "serves"
> = {
  planningStart: "no planning",
  planningBudget: "none",
  search: "none",
  serves: "nothing",
};

/** One row of the map. */
export interface MapRow extends SurveyPlace {
  experiment: string;
  notebook: string;
}

export function mapRows(
  experiments: readonly { name: string; notebook: string; taxonomy: SurveyPlace }[],
): MapRow[] {
  return experiments.map((e) => ({ experiment: e.name, notebook: e.notebook, ...e.taxonomy }));
}

const COLUMNS: [keyof MapRow, string][] = [
  ["experiment", "Experiment"],
  ["model", "Model"],
  ["representation", "Represented as"],
  ["modelPredicts", "Predicts"],
  ["planningStart", "Planning starts at"],
  ["planningBudget", "Planning budget"],
  ["search", "Search"],
  ["serves", "Planning serves"],
];

/** The map as a markdown table, one row per experiment. */
export function mapTable(rows: readonly MapRow[]): string {
  const escape = (text: string) => text.replaceAll("|", "\\|");
  return [
    `| ${COLUMNS.map(([, title]) => title).join(" | ")} |`,
    `| ${COLUMNS.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${COLUMNS.map(([key]) => escape(String(row[key]))).join(" | ")} |`),
  ].join("\n");
}

const SEARCH_ORDER: PlanningSearch[] = [
  "none",
  "one-step samples (Q-planning)",
  "random shooting / CEM",
  "tree search (MCTS)",
  "gradients through imagined rollouts",
  "policy gradient in imagination",
  "evolution of a policy in the model",
];
const REPRESENTATION_ORDER: ModelRepresentation[] = [
  "none",
  "tabular",
  "observation space",
  "latent state",
  "latent, discrete codes",
  "latent, value-equivalent",
];

/**
 * The map as a figure: the model's representation across, the search up, one dot per occupied
 * cell coloured by what planning serves there, labelled with the experiments in it.
 */
export function mapFigure(rows: readonly MapRow[]): string {
  const cells = new Map<
    string,
    { representation: string; search: string; serves: string; names: string[] }
  >();
  for (const row of rows) {
    const key = `${row.representation}|${row.search}|${row.serves}`;
    const cell = cells.get(key) ??
      { representation: row.representation, search: row.search, serves: row.serves, names: [] };
    cell.names.push(row.experiment);
    cells.set(key, cell);
  }
  const placed = [...cells.values()].map((cell) => ({ ...cell, label: cell.names.join("\n") }));
  return renderPlot({
    title: "The experiments on the survey's map",
    subtitle: "Moerland et al. (2020): how the model is represented and how planning searches",
    width: 960,
    height: 520,
    marginLeft: 230,
    marginRight: 140,
    marginBottom: 60,
    x: {
      domain: REPRESENTATION_ORDER,
      label: "Model represented as",
      padding: 0.5,
      // Two lines, so the long names of neighbouring columns do not run into each other.
      tickFormat: (name: string) => name.replace(", ", ",\n"),
    },
    y: { domain: SEARCH_ORDER, label: null, padding: 0.6 },
    color: { domain: ["nothing", "acting", "learning", "acting and learning"], legend: true },
    marks: [
      Plot.dot(placed, { x: "representation", y: "search", fill: "serves", r: 7 }),
      Plot.text(placed, {
        x: "representation",
        y: "search",
        text: "label",
        dx: 10,
        textAnchor: "start",
        fontSize: 9,
      }),
    ],
  });
}
