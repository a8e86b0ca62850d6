/** What a server action tells its form: an error with the offending fields, or success. */
export interface ActionState {
  ok?: boolean;
  message?: string;
  error?: string;
  fields?: Record<string, string>;
}

export type FormAction = (state: ActionState, formData: FormData) => Promise<ActionState>;
