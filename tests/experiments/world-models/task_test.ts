import assert from "node:assert/strict";
import {
  stageSchedule,
  type WorldModelsStage,
} from "../../../lib/experiments/world-models/task.ts";

Deno.test("stageSchedule", async (t) => {
  const seeds = [0, 1];
  const levels: WorldModelsStage[][] = [
    seeds.map((seed) => ({ kind: "world", seed })),
    seeds.flatMap((seed) => ["z", "zh"].map((id) => ({ kind: "controller" as const, seed, id }))),
    [{ kind: "finish", seed: 0 }],
  ];
  const schedule = stageSchedule(levels);
  const at = (kind: string, seed: number, id?: string) =>
    schedule.findIndex(({ stage }) =>
      stage.kind === kind && stage.seed === seed && (id === undefined ||
        (stage as { id?: string }).id === id)
    );

  await t.step("keeps every stage once", () => {
    assert.equal(schedule.length, levels.flat().length);
  });

  await t.step("a controller waits for its own seed's world model only", () => {
    assert.deepEqual(schedule[at("controller", 1, "z")].after, [at("world", 1)]);
    assert.deepEqual(schedule[at("controller", 0, "zh")].after, [at("world", 0)]);
  });

  await t.step("the finish stage follows its seed's controllers, before other seeds' ones", () => {
    const finish = at("finish", 0);
    assert.deepEqual(
      [...schedule[finish].after].sort(),
      [at("controller", 0, "z"), at("controller", 0, "zh"), at("world", 0)].sort(),
    );
    assert.ok(finish < at("controller", 1, "z"));
  });

  await t.step("every prerequisite comes earlier in the list", () => {
    schedule.forEach(({ after }, i) => assert.ok(after.every((j) => j < i)));
  });
});
