import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../../lib/io.ts";
import { repoRelativePath, resolveFromRepoRoot } from "../../lib/viz/files.ts";

Deno.test("figure paths start at the repository root, whatever the working directory", () => {
  assert.equal(resolveFromRepoRoot("res/dyna/steps.svg"), join(REPO_ROOT, "res/dyna/steps.svg"));
  assert.equal(resolveFromRepoRoot("/tmp/figure.svg"), "/tmp/figure.svg");
  assert.equal(repoRelativePath(join(REPO_ROOT, "res", "a.svg")), join("res", "a.svg"));
  assert.equal(repoRelativePath("res/a.svg"), join("res", "a.svg"));
  // Outside the repository the absolute path is kept, never a "../" path.
  assert.equal(repoRelativePath("/tmp/elsewhere/a.svg"), "/tmp/elsewhere/a.svg");
});
