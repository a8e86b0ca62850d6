/**
 * What a server action tells its form: success with a message, or a refusal with one plain message
 * per offending field, a general error for what no field of the form explains, and the values that
 * were submitted (React clears a form after its action; a refused form shows them again).
 */
export interface ActionState {
  ok?: boolean;
  message?: string;
  error?: string;
  fields?: Record<string, string>;
  values?: Record<string, string>;
}

export type FormAction = (state: ActionState, formData: FormData) => Promise<ActionState>;

/** The text fields a form submitted, by name; Next's own action fields are left out. */
export function submittedValues(formData: FormData): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of formData) {
    if (typeof value === "string" && !name.startsWith("$ACTION")) values[name] ??= value;
  }
  return values;
}
