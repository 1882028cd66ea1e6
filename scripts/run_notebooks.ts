/**
 * `deno task notebooks [NAME...]`: executes every notebook (or those whose file name contains a
 * NAME) in place, with outputs, at the laptop budget (MBRL_BUDGET overrides), so GitHub renders
 * them with their results.
 */
import {
  executeNotebook,
  JUPYTER_INSTALL_HINT,
  jupyterProblem,
  listNotebooks,
  notebookErrors,
} from "../lib/notebooks.ts";
import { parseBudget } from "../lib/experiments/runner.ts";

const problem = await jupyterProblem();
if (problem) {
  console.error(`error: ${problem}; ${JUPYTER_INSTALL_HINT}`);
  Deno.exit(2);
}
const budget = parseBudget(Deno.env.get("MBRL_BUDGET") || "laptop");
const wanted = Deno.args;
const notebooks = (await listNotebooks()).filter((path) =>
  wanted.length === 0 || wanted.some((name) => path.split("/").pop()!.includes(name))
);
let failed = false;
for (const path of notebooks) {
  console.error(`executing ${path} at the ${budget} budget ...`);
  const { seconds } = await executeNotebook(path, { budget, inPlace: true, timeoutSeconds: 7200 });
  const errors = await notebookErrors(path);
  console.error(
    `  ${seconds.toFixed(0)} s${errors.length ? `, ${errors.length} error output(s)` : ""}`,
  );
  for (const error of errors) console.error(`  ${error}`);
  failed ||= errors.length > 0;
}
if (failed) Deno.exit(1);
