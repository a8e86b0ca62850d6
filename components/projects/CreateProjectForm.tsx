"use client";

import type { FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";
import { useActionForm } from "@/components/forms/use-action-form";

/** The new-project form; only the instance admin is offered paths on the server's disk. */
export function CreateProjectForm({ create, localPaths }: { create: FormAction; localPaths: boolean }) {
  const { state, pending, form, field, error } = useActionForm(create);
  return (
    <form
      {...form}
      aria-labelledby="new-project-heading"
      className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
    >
      <h2 id="new-project-heading" className="font-medium">
        New project
      </h2>
      <FormError state={state} />
      <div>
        <label htmlFor="repo" className="mb-1 block text-sm font-medium">
          {localPaths ? "Repository (local path or git URL)" : "Repository (git URL)"}
        </label>
        <input
          {...field("repo")}
          required
          maxLength={2000}
          placeholder={
            localPaths ? "/home/me/code/app or https://github.com/me/app.git" : "https://github.com/me/app.git"
          }
          className={inputClass}
        />
        <FieldError {...error("repo")} />
      </div>
      <div>
        <label htmlFor="name" className="mb-1 block text-sm font-medium">
          Name (optional)
        </label>
        <input {...field("name")} className={inputClass} />
        <FieldError {...error("name")} />
      </div>
      <button type="submit" disabled={pending} className={primaryButtonClass}>
        {pending ? "Checking repository…" : "Create project"}
      </button>
    </form>
  );
}
