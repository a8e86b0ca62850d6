import { describe, expect, it } from "vitest";
import { actionError } from "@/app/action-error";
import { SamError } from "@/lib/errors";

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  data.append("$ACTION_ID_abc", "");
  return data;
}

describe("a refused form gets one plain message per field and its values back", () => {
  const refusal = new SamError(
    "invalid_input",
    "Invalid input: maxDepth: Max depth must be between 1 and 10; role: must be owner or member",
    {
      fields: [
        { field: "maxDepth", message: "Max depth must be between 1 and 10" },
        { field: "role", message: "must be owner or member" },
      ],
    },
  );

  it("puts each issue about a submitted field next to it, with no banner repeating them", () => {
    expect(actionError(refusal, form({ maxDepth: "11", role: "boss" }))).toEqual({
      error: undefined,
      fields: { maxDepth: "Max depth must be between 1 and 10", role: "Must be owner or member" },
      values: { maxDepth: "11", role: "boss" },
    });
  });

  it("makes the general error of what no field of the form explains, in words of its own", () => {
    const state = actionError(refusal, form({ maxDepth: "11" }));
    expect(state.fields).toEqual({ maxDepth: "Max depth must be between 1 and 10" });
    expect(state.error).toBe("role must be owner or member");
  });

  it("keeps the message of a refusal that names no field", () => {
    const state = actionError(new SamError("conflict", "This idea is already executing"), form({ title: "x" }));
    expect(state).toEqual({ error: "This idea is already executing", fields: {}, values: { title: "x" } });
  });
});
