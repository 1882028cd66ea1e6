import assert from "node:assert/strict";
import { EXPERIMENTS } from "../../lib/experiments/registry.ts";
import { mapFigure, mapRows, mapTable, type SurveyPlace } from "../../lib/experiments/taxonomy.ts";

const FIELDS: (keyof SurveyPlace)[] = [
  "model",
  "modelPredicts",
  "representation",
  "planningStart",
  "planningBudget",
  "search",
  "serves",
];

Deno.test("every registered experiment declares its place on the survey's map", () => {
  for (const experiment of EXPERIMENTS) {
    for (const field of FIELDS) {
      const value = experiment.taxonomy?.[field];
      assert.ok(
        typeof value === "string" && value.length > 0,
        `${experiment.name} does not declare taxonomy.${field}`,
      );
    }
    const place = experiment.taxonomy;
    // A place must be coherent: no planning means no search, and no model means no planning.
    assert.equal(place.planningStart === "no planning", place.search === "none", experiment.name);
    if (place.model === "none (model-free)") assert.equal(place.search, "none", experiment.name);
  }
});

Deno.test("the map's table and figure are drawn from the declarations, one entry each", () => {
  const rows = mapRows(EXPERIMENTS);
  const table = mapTable(rows);
  const lines = table.split("\n");
  assert.equal(lines.length, EXPERIMENTS.length + 2);
  for (const experiment of EXPERIMENTS) {
    assert.ok(lines.some((line) => line.startsWith(`| ${experiment.name} |`)), experiment.name);
  }
  const svg = mapFigure(rows);
  assert.ok(svg.startsWith("<svg"));
  for (const experiment of EXPERIMENTS) assert.ok(svg.includes(experiment.name), experiment.name);
  // A new experiment appears without any other edit.
  const extra = mapRows([{
    name: "new-one",
    notebook: "notebooks/99.ipynb",
    taxonomy: EXPERIMENTS[0].taxonomy,
  }]);
  assert.ok(mapTable([...rows, ...extra]).includes("| new-one |"));
});
