/** The README's claims table is the one data/results gives, and every notebook is indexed. */
import assert from "node:assert/strict";
import { REPO_ROOT } from "../lib/io.ts";
import { listNotebooks } from "../lib/notebooks.ts";
import {
  claimsTableFromResults,
  COMPARISON_END,
  COMPARISON_START,
  comparisonTableFromResults,
  replaceClaimsSection,
  replaceSection,
} from "../lib/readme.ts";

Deno.test("README", async (t) => {
  const readme = await Deno.readTextFile(`${REPO_ROOT}/README.md`);

  await t.step("its claims table matches data/results", async () => {
    const expected = replaceClaimsSection(readme, await claimsTableFromResults(REPO_ROOT));
    assert.equal(readme, expected, "run `deno task reproduce` (or refresh the README)");
  });

  await t.step(
    "its cross-paper table matches data/results and comes before the claims",
    async () => {
      const table = await comparisonTableFromResults(REPO_ROOT);
      const expected = replaceSection(readme, COMPARISON_START, COMPARISON_END, table);
      assert.equal(
        readme,
        expected,
        "run `deno task reproduce comparison` (or refresh the README)",
      );
      assert.ok(readme.indexOf(COMPARISON_START) < readme.indexOf("## Reproduced claims"));
    },
  );

  await t.step("it links every notebook", async () => {
    for (const path of await listNotebooks()) {
      const name = path.split("/").pop()!;
      assert.ok(readme.includes(`notebooks/${name}`), `README does not link ${name}`);
    }
  });

  await t.step("every local file the README and the notes link to exists", async () => {
    const documents = [
      { path: "README.md", base: REPO_ROOT },
      { path: "notes/model-based-rl.md", base: `${REPO_ROOT}/notes` },
    ];
    for (const { path, base } of documents) {
      const text = await Deno.readTextFile(`${REPO_ROOT}/${path}`);
      for (
        const [, target] of text.matchAll(
          /\]\(((?:\.\.\/|res\/|notebooks\/|lib\/|scripts\/|notes\/)[^)#\s]+)\)/g,
        )
      ) {
        await Deno.stat(`${base}/${target}`).catch(() =>
          assert.fail(`${path} links to missing ${target}`)
        );
      }
    }
  });

  await t.step("every results file names the command that regenerates it", async () => {
    for await (const entry of Deno.readDir(`${REPO_ROOT}/data/results`)) {
      const result = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/data/results/${entry.name}`));
      assert.match(result.command, /^deno task reproduce \S+ --budget (laptop|paper)/);
      for (const figure of result.figures ?? []) {
        await Deno.stat(`${REPO_ROOT}/${figure}`); // the figure exists
      }
    }
  });
});
