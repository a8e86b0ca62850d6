import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take minutes, slowest first. A fresh checkout (CI) has no timings to sort by, and
 * vitest would then start files by size: one of these started late leaves the run waiting on it alone.
 */
const SLOWEST = ["qwen-code", "joined-nodes", "orchestration-races", "app-shell", "many-instances", "chat"];

const rank = (spec: TestSpecification) => {
  const i = SLOWEST.findIndex((name) => spec.moduleId.endsWith(`/test/e2e/${name}.test.ts`));
  return i === -1 ? SLOWEST.length : i;
};

/** Vitest's order (groups, projects, failed and slowest by past runs), with the known slowest files first in their project. */
export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const position = new Map(base.map((spec, i) => [spec, i]));
    const group = (spec: TestSpecification) => `${spec.project.config.sequence.groupOrder}\u0000${spec.project.name}`;
    const firstOfGroup = new Map<string, number>();
    for (const spec of base) if (!firstOfGroup.has(group(spec))) firstOfGroup.set(group(spec), position.get(spec)!);
    return [...base].sort(
      (a, b) =>
        firstOfGroup.get(group(a))! - firstOfGroup.get(group(b))! ||
        rank(a) - rank(b) ||
        position.get(a)! - position.get(b)!,
    );
  }
}
