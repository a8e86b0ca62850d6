"use client";

import { useEffect, useState } from "react";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";
import type { Jsonified } from "@/components/tasks/task-json";
import type { TaskStatus } from "@/db/schema";
import type { HumanRequestJson } from "@/lib/tasks/human-input";
import { isTerminal } from "@/lib/tasks/statuses";

type HumanRequest = Jsonified<HumanRequestJson>;

/** The readable message of a refused answer (the API answers {error: {message}}). */
async function refusal(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    return body.error?.message ?? `The answer was refused (${res.status})`;
  } catch {
    return `The answer was refused (${res.status})`;
  }
}

/**
 * A question the agent asked: its options as buttons and a free answer; once answered, the answer.
 * A click sends at once (the agent goes on with it), so a second click cannot answer twice.
 */
export function HumanInputCard({
  request,
  ended,
  onAnswered,
}: {
  request: HumanRequest;
  /** The task has ended: an open question takes no answer any more. */
  ended: boolean;
  onAnswered: (answered: HumanRequest) => void;
}) {
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string>();

  async function answer(value: string) {
    setSending(true);
    setError(undefined);
    try {
      const res = await fetch(`/api/tasks/${encodeURIComponent(request.taskId)}/answer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ requestId: request.id, answer: value }),
      });
      if (!res.ok) {
        setError(await refusal(res));
        return;
      }
      const { answeredAt } = (await res.json()) as { answeredAt: string };
      onAnswered({ ...request, answer: value.trim(), answeredAt, answeredBy: "you" });
    } catch {
      setError("The answer could not be sent; try again");
    } finally {
      setSending(false);
    }
  }

  const answered = request.answeredAt !== null;
  const closed = !answered && ended;
  return (
    <section
      aria-label="The agent asks"
      data-testid="human-input-card"
      data-request-id={request.id}
      data-state={answered ? "answered" : closed ? "closed" : "open"}
      className="space-y-3 rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-amber-950 dark:border-amber-800 dark:bg-amber-950/60 dark:text-amber-100"
    >
      <div className="text-xs font-semibold uppercase tracking-wide">
        {answered || closed ? "The agent asked" : "The agent asks you"}
      </div>
      <p data-testid="human-input-question" className="whitespace-pre-wrap break-words text-sm">
        {request.question}
      </p>
      {answered ? (
        <p data-testid="human-input-answer" className="whitespace-pre-wrap break-words text-sm">
          <span className="font-medium">Answered by {request.answeredBy}:</span> {request.answer}
        </p>
      ) : closed ? (
        <p data-testid="human-input-closed" className="text-sm italic">
          Not answered: the task ended first.
        </p>
      ) : (
        <>
          {request.options ? (
            <fieldset className="flex flex-wrap gap-2">
              <legend className="sr-only">Answers to choose from</legend>
              {request.options.map((option) => (
                <button
                  key={option}
                  type="button"
                  data-testid="human-input-option"
                  disabled={sending}
                  onClick={() => void answer(option)}
                  className="rounded-md border border-amber-400 bg-white px-3 py-1.5 text-sm hover:bg-amber-100 disabled:opacity-60 dark:border-amber-700 dark:bg-zinc-900 dark:hover:bg-amber-900"
                >
                  {option}
                </button>
              ))}
            </fieldset>
          ) : null}
          <form
            className="space-y-2"
            onSubmit={(e) => {
              e.preventDefault();
              if (text.trim()) void answer(text);
            }}
          >
            <label htmlFor={`answer-${request.id}`} className="block text-sm font-medium">
              {request.options ? "Or write your answer" : "Your answer"}
            </label>
            <textarea
              id={`answer-${request.id}`}
              value={text}
              onChange={(e) => setText(e.target.value)}
              rows={2}
              maxLength={20_000}
              className={inputClass}
            />
            <button type="submit" disabled={sending || text.trim() === ""} className={primaryButtonClass}>
              {sending ? "Sending…" : "Send answer"}
            </button>
          </form>
        </>
      )}
      {error ? (
        <p
          role="alert"
          className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
        >
          {error}
        </p>
      ) : null}
    </section>
  );
}

/**
 * The task's questions, read again whenever the task's stream shows it changed (`version`): in the
 * chat (`latestOnly`) the newest one while it is open or the task still waits on it (the answer then
 * shows as a message), on the task page every one with its answer.
 */
export function TaskQuestions({
  taskId,
  status,
  version,
  latestOnly = false,
}: {
  taskId: string;
  status: TaskStatus;
  version: number;
  latestOnly?: boolean;
}) {
  const [requests, setRequests] = useState<HumanRequest[]>([]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: status and version only say when to read again
  useEffect(() => {
    const controller = new AbortController();
    fetch(`/api/tasks/${encodeURIComponent(taskId)}/questions`, { signal: controller.signal })
      .then((res) => (res.ok ? (res.json() as Promise<HumanRequest[]>) : undefined))
      .then((list) => {
        if (list) setRequests(list);
      })
      .catch(() => undefined);
    return () => controller.abort();
  }, [taskId, status, version]);

  const replace = (answered: HumanRequest) =>
    setRequests((list) => list.map((r) => (r.id === answered.id ? answered : r)));
  const ended = isTerminal(status);
  const latest = requests.at(-1);
  const shown = latestOnly
    ? latest && ((latest.answeredAt === null && !ended) || status === "awaiting_input")
      ? [latest]
      : []
    : requests;
  if (shown.length === 0) return null;
  return (
    <div className="space-y-3">
      {shown.map((request) => (
        <HumanInputCard key={request.id} request={request} ended={ended} onAnswered={replace} />
      ))}
    </div>
  );
}
