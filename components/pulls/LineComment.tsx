"use client";

import { useEffect } from "react";
import { MarkdownText } from "@/components/chat/MarkdownText";
import type { FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";
import { useActionForm } from "@/components/forms/use-action-form";
import { LocalTime } from "@/components/tasks/LocalTime";
import type { LinePlace, PullComment } from "./pull-types";

/** One comment: who wrote it, when, and what (markdown, as elsewhere in the app). */
export function CommentView({ comment }: { comment: PullComment }) {
  return (
    <article
      data-testid="pull-comment"
      data-path={comment.path ?? undefined}
      data-line={comment.line ?? undefined}
      className="rounded-md border border-zinc-200 bg-white px-3 py-2 text-zinc-900 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      <header className="mb-1 text-xs text-zinc-600 dark:text-zinc-400">
        <span className="font-medium text-zinc-900 dark:text-zinc-100">{comment.author}</span>
        {comment.path ? (
          <span className="ml-2 font-mono">
            {comment.path}:{comment.line}
          </span>
        ) : null}
        <span className="ml-2">
          <LocalTime at={comment.createdAt} dateToo />
        </span>
      </header>
      <MarkdownText text={comment.body} />
    </article>
  );
}

/** The comments under one line of a diff. */
export function LineComments({ comments }: { comments: PullComment[] }) {
  return (
    <div data-testid="line-comments" className="space-y-2 px-3 py-2 font-sans">
      {comments.map((c) => (
        <CommentView key={c.id} comment={c} />
      ))}
    </div>
  );
}

/**
 * A comment form: on one line (`place` given, sent as hidden path and line) or on the whole PR.
 * A line's form closes once its comment is saved; the page's refresh shows the comment under the line.
 */
export function CommentForm({
  comment,
  place,
  onDone,
}: {
  comment: FormAction;
  place?: LinePlace;
  onDone?: () => void;
}) {
  const idPrefix = place ? `comment-${place.path}-${place.line}` : "pull-comment";
  const { state, pending, form, field, error } = useActionForm(comment, { idPrefix, clearOnSuccess: true });
  useEffect(() => {
    if (state.ok) onDone?.();
  }, [state, onDone]);
  const label = place ? `Comment on line ${place.line}` : "Comment on the pull request";
  return (
    <form
      {...form}
      aria-label={label}
      data-testid={place ? "line-comment-form" : "pull-comment-form"}
      className="space-y-2 px-3 py-2 font-sans"
    >
      {place ? (
        <>
          <input type="hidden" name="path" value={place.path} />
          <input type="hidden" name="line" value={place.line} />
        </>
      ) : null}
      <label htmlFor={field("body").id} className="block text-sm font-medium">
        {label}
      </label>
      <textarea {...field("body")} rows={3} required className={inputClass} />
      <FieldError {...error("body")} />
      {place ? (
        <>
          <FieldError {...error("path")} />
          <FieldError {...error("line")} />
        </>
      ) : null}
      <FormError state={state.ok && place ? {} : state} />
      <div className="flex gap-2">
        <button type="submit" disabled={pending} className={primaryButtonClass}>
          {pending ? "Saving…" : "Comment"}
        </button>
        {onDone ? (
          <button
            type="button"
            onClick={onDone}
            className="rounded-md border border-zinc-300 px-3 py-2 text-sm hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
