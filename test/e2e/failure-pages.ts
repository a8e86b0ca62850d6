import { afterEach } from "vitest";
import { describeTestPages } from "../helpers/browser";

// A browser test that fails under load is rarely reproduced by running it alone: what its pages
// showed at that moment is printed with the failure.
afterEach(async (context) => {
  const pages = await describeTestPages();
  if (context.task.result?.state === "fail" && pages) {
    console.error(`Pages of "${context.task.name}" when it failed:\n${pages}`);
  }
});
