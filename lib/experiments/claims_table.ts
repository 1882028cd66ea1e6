/**
 * The table of reproduced claims: paper | ours | holds | command, one row a claim. The CLI prints
 * it, the notebooks show it and the README carries it, all from the results files.
 */
import type { ExperimentResult } from "./types.ts";

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** A markdown table of every claim in the results, in the order given. */
export function claimsMarkdown(results: readonly ExperimentResult<unknown>[]): string {
  const lines = [
    "| experiment | claim | paper | ours | holds | command |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const result of results) {
    for (const claim of result.claims) {
      lines.push(
        `| ${result.experiment} | ${cell(claim.id)} | ${cell(claim.paper)} | ${
          cell(claim.ours)
        } | ` +
          `${claim.holds ? "yes" : "**no**"} | \`${result.command}\` |`,
      );
    }
  }
  return lines.join("\n");
}

/** A plain-text version for the terminal: one block a claim. */
export function claimsText(results: readonly ExperimentResult<unknown>[]): string {
  const blocks: string[] = [];
  for (const result of results) {
    for (const claim of result.claims) {
      blocks.push(
        `${claim.holds ? "HOLDS " : "FAILS "} ${result.experiment} / ${claim.id}\n` +
          `        paper: ${claim.paper}\n        ours:  ${claim.ours}`,
      );
    }
  }
  return blocks.join("\n");
}

/** Reads every results file in a folder, sorted by the given name order. */
export async function readResults(
  dir: string,
  order: readonly string[] = [],
): Promise<ExperimentResult<unknown>[]> {
  const results: ExperimentResult<unknown>[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      results.push(JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const rank = (name: string) => {
    const index = order.indexOf(name);
    return index < 0 ? order.length : index;
  };
  return results.sort((a, b) =>
    rank(a.experiment) - rank(b.experiment) || a.experiment.localeCompare(b.experiment)
  );
}
