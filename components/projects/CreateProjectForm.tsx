"use client";

import { useActionState } from "react";
import type { ActionState, FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";

/** The new-project form; only the instance admin is offered paths on the server's disk. */
export function CreateProjectForm({ create, localPaths }: { create: FormAction; localPaths: boolean }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(create, {});
  return (
    <form action={action} className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <h2 className="font-medium">New project</h2>
      <FormError state={state} />
      <div>
        <label htmlFor="repo" className="mb-1 block text-sm font-medium">
          {localPaths ? "Repository (local path or git URL)" : "Repository (git URL)"}
        </label>
        <input
          id="repo"
          name="repo"
          required
          placeholder={
            localPaths ? "/home/me/code/app or https://github.com/me/app.git" : "https://github.com/me/app.git"
          }
          aria-describedby="repo-error"
          className={inputClass}
        />
        <FieldError id="repo-error" message={state.fields?.repo} />
      </div>
      <div>
        <label htmlFor="name" className="mb-1 block text-sm font-medium">
          Name (optional)
        </label>
        <input id="name" name="name" aria-describedby="name-error" className={inputClass} />
        <FieldError id="name-error" message={state.fields?.name} />
      </div>
      <button type="submit" disabled={pending} className={primaryButtonClass}>
        {pending ? "Checking repository…" : "Create project"}
      </button>
    </form>
  );
}
