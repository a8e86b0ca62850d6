/** A field's own message, under it; the field points to it with aria-describedby. */
export function FieldError({ message, id }: { message?: string; id: string }) {
  if (!message) return null;
  return (
    <p id={id} role="alert" className="mt-1 text-sm text-red-700 dark:text-red-400">
      {message}
    </p>
  );
}

/** What no single field explains (a refusal of the whole form), or the action's success message. */
export function FormError({ state }: { state: { error?: string; ok?: boolean; message?: string } }) {
  if (state.error) {
    return (
      <p
        role="alert"
        className="whitespace-pre-line rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
      >
        {state.error}
      </p>
    );
  }
  if (state.ok && state.message) {
    return (
      <p
        role="status"
        className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200"
      >
        {state.message}
      </p>
    );
  }
  return null;
}
