"use client";

import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport } from "ai";
import { type ReactNode, useEffect, useMemo, useRef, useState } from "react";
import { type SessionIdeaItem, SessionIdeasPanel } from "@/components/ideas/SessionIdeasPanel";
import { TaskControls } from "@/components/tasks/TaskControls";
import type { TaskJson } from "@/components/tasks/task-json";
import type { TaskMode } from "@/db/schema";
import type { ChatDataParts, ChatMessage } from "@/lib/chat/chunks";
import type { Transcript } from "@/lib/chat/transcript";
import { ChatComposer } from "./ChatComposer";
import { ChatMessageView } from "./ChatMessageView";
import { EXAMPLE_PROMPTS } from "./example-prompts";
import { TaskQuestions } from "./HumanInputCard";
import { ModeToggle } from "./ModeToggle";
import { PendingMessages, sendingDelivery } from "./PendingMessages";
import { SessionHeader } from "./SessionHeader";
import { ideaOfToolPart } from "./tool-names";
import { useSessionTask } from "./use-session-task";
import { useTranscriptWindow } from "./use-transcript-window";

export interface ChatViewProps {
  projectId: string;
  /** The session shown; absent on a new chat until its first message is sent. */
  session?: { id: string; taskId: string; mode: TaskMode; title: string };
  initialTranscript: Transcript;
  initialTask?: TaskJson;
  /** What the composer does on send, as the user last chose. */
  preferredMode: TaskMode;
  saveMode: (mode: TaskMode) => Promise<void>;
  demoModel: boolean;
  archived: boolean;
  /** The project's stop grace period, for the stop confirmation. */
  graceSeconds?: number;
  /** The ideas linked to the session when the page was rendered. */
  initialIdeas?: SessionIdeaItem[];
  /** Shown above an empty new chat (what the project is). */
  intro?: ReactNode;
}

/** The readable message of a failed chat request (the API answers {error: {message}}). */
function messageOf(error: Error): string {
  try {
    const body = JSON.parse(error.message) as { error?: { message?: string; code?: string } };
    if (body.error?.message) {
      return body.error.code === "unavailable"
        ? `The agent's machine cannot be reached: ${body.error.message}`
        : body.error.message;
    }
  } catch {
    // Not JSON: the message is already text.
  }
  return error.message || "The message could not be sent";
}

function sessionUrl(projectId: string, sessionId: string) {
  return `/projects/${projectId}/sessions/${sessionId}`;
}

/**
 * The project chat. Messages go out through `POST /api/chat`; the reply streams back as the
 * stored events arrive. A reload resumes the turn under way, and turns this tab did not start
 * (another tab, a message from the system) are picked up when the task's stream shows new events.
 */
export function ChatView(props: ChatViewProps) {
  const { projectId, initialTranscript } = props;
  const sessionRef = useRef(props.session ? { sessionId: props.session.id, taskId: props.session.taskId } : undefined);
  const [taskId, setTaskId] = useState(props.session?.taskId);
  const [mode, setMode] = useState<TaskMode>(props.session?.mode ?? props.preferredMode);
  const modeRef = useRef(mode);
  modeRef.current = mode;
  const lastSeq = useRef(initialTranscript.lastSeq);
  const [draft, setDraft] = useState("");

  const transport = useMemo(
    () =>
      new DefaultChatTransport<ChatMessage>({
        api: "/api/chat",
        prepareSendMessagesRequest: ({ messages }) => {
          const last = messages.at(-1);
          const text = last?.parts.map((p) => (p.type === "text" ? p.text : "")).join("") ?? "";
          return {
            body: { projectId, sessionId: sessionRef.current?.sessionId, mode: modeRef.current, text },
          };
        },
        prepareReconnectToStreamRequest: ({ id }) => ({
          api: `/api/chat/${encodeURIComponent(sessionRef.current?.sessionId ?? id)}/stream?after=${lastSeq.current}`,
        }),
      }),
    [projectId],
  );

  const chat = useChat<ChatMessage>({
    id: props.session?.id,
    messages: initialTranscript.messages,
    transport,
    resume: props.session !== undefined,
    onData: (part) => {
      if (part.type === "data-seq") {
        const { seq } = part.data as ChatDataParts["seq"];
        lastSeq.current = Math.max(lastSeq.current, seq);
      }
      if (part.type === "data-session" && !sessionRef.current) {
        const session = part.data as ChatDataParts["session"];
        sessionRef.current = session;
        setTaskId(session.taskId);
        // The chat now has a session: its address, without remounting the page mid-stream.
        window.history.replaceState(null, "", sessionUrl(projectId, session.sessionId));
      }
    },
  });
  const { messages, sendMessage, status, error, resumeStream, setMessages } = chat;

  const { task, latestSeq, lost, pendingMessages } = useSessionTask(
    taskId,
    props.initialTask,
    initialTranscript.lastSeq,
  );

  // A turn this tab did not start: catch up from the stored transcript, then follow the turn live.
  const catchingUp = useRef(false);
  useEffect(() => {
    const session = sessionRef.current;
    if (!session || status !== "ready" || latestSeq <= lastSeq.current || catchingUp.current) return;
    catchingUp.current = true;
    void (async () => {
      try {
        const res = await fetch(`/api/chat/${encodeURIComponent(session.sessionId)}/transcript`);
        if (!res.ok) return;
        const transcript = (await res.json()) as Transcript;
        lastSeq.current = Math.max(lastSeq.current, transcript.lastSeq);
        setMessages(transcript.messages);
        await resumeStream();
      } finally {
        catchingUp.current = false;
      }
    })();
  }, [latestSeq, status, resumeStream, setMessages]);

  // Keep the newest message in view while the reply grows, unless the user scrolled up to read.
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    const pane = scroller.current;
    if (stick.current && pane && messages.length > 0) pane.scrollTop = pane.scrollHeight;
  }, [messages]);
  const transcriptWindow = useTranscriptWindow(messages.length, scroller);
  const onScroll = () => {
    const pane = scroller.current;
    if (!pane) return;
    stick.current = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 120;
    // Reaching the top of what is shown reveals the messages before it.
    if (pane.scrollTop < 50) transcriptWindow.showEarlier();
  };

  // The session's ideas: those linked when the page was rendered, then each one the agent captures
  // or links as its call comes in.
  const sessionIdeas = useMemo(() => {
    const byId = new Map<string, SessionIdeaItem>((props.initialIdeas ?? []).map((idea) => [idea.id, idea]));
    for (const message of messages) {
      for (const part of message.parts) {
        if (part.type !== "dynamic-tool") continue;
        const idea = ideaOfToolPart(part);
        if (idea) byId.set(idea.id, { priority: 0, context: null, ...byId.get(idea.id), ...idea });
      }
    }
    return [...byId.values()];
  }, [messages, props.initialIdeas]);

  const busy = status === "submitted" || status === "streaming";
  // An ended session says so even while the stream of its last turn is still closing.
  const ended = task && (task.status === "completed" || task.status === "failed" || task.status === "cancelled");
  const disabledReason = props.archived
    ? "This project is archived; an owner can restore it in Settings."
    : ended
      ? "This session has ended. Start a new chat to go on."
      : busy
        ? "The agent is replying…"
        : task && (task.status === "queued" || task.status === "provisioning")
          ? `The ${task.mode === "task" ? "task" : "session"} is ${task.status === "queued" ? "queued" : "starting"}; you can write once it runs.`
          : undefined;

  function changeMode(next: TaskMode) {
    setMode(next);
    void props.saveMode(next);
  }

  function send(text: string) {
    void sendMessage({ text });
  }

  const isNew = taskId === undefined;

  return (
    <div data-testid="chat-view" className="flex h-full flex-col">
      <div className="shrink-0 px-4 pt-3">
        {task ? (
          <SessionHeader
            projectId={projectId}
            task={task}
            live={!lost}
            aside={
              <>
                <TaskControls projectId={projectId} task={task} graceSeconds={props.graceSeconds} onlyAvailable />
                {sessionIdeas.length > 0 || task.mode === "conversation" ? (
                  <details open={sessionIdeas.length > 0} className="text-sm">
                    <summary className="cursor-pointer text-zinc-600 dark:text-zinc-400">
                      Ideas ({sessionIdeas.length})
                    </summary>
                    <div className="mt-2">
                      <SessionIdeasPanel projectId={projectId} ideas={sessionIdeas} />
                    </div>
                  </details>
                ) : null}
              </>
            }
          />
        ) : (
          <div className="space-y-1">
            <h2 className="text-lg font-semibold tracking-tight">New chat</h2>
            <p className="text-sm text-zinc-600 dark:text-zinc-400">
              Talk about the repository with an agent, or hand it a task. The toggle below decides what happens when you
              send.
            </p>
          </div>
        )}
      </div>

      <div ref={scroller} onScroll={onScroll} data-testid="chat-scroll" className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto max-w-3xl space-y-4 px-4 py-4">
          {isNew && messages.length === 0 ? props.intro : null}

          {props.demoModel ? (
            <p
              data-testid="demo-model-notice"
              className="rounded-md bg-violet-50 px-3 py-2 text-xs text-violet-900 dark:bg-violet-950/50 dark:text-violet-200"
            >
              <span className="font-semibold">Demo model.</span> This project has no model configured, so agents run the
              offline <code>scripted</code> model: it plays the <code>sam-script</code> block of a message. Set a model
              and its API key in Settings to work with a real one.
            </p>
          ) : null}

          <ol aria-label="Messages" data-testid="chat-messages" className="space-y-4">
            {transcriptWindow.start > 0 ? (
              <li className="text-center">
                <button
                  type="button"
                  data-testid="show-earlier-messages"
                  onClick={transcriptWindow.showEarlier}
                  className="rounded-md px-3 py-1 text-sm text-zinc-600 underline hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-900"
                >
                  Show {transcriptWindow.start} earlier message{transcriptWindow.start === 1 ? "" : "s"}
                </button>
              </li>
            ) : null}
            {messages.slice(transcriptWindow.start).map((message, i) => (
              <ChatMessageView
                key={message.id}
                message={message}
                projectId={projectId}
                delivery={sendingDelivery(messages, transcriptWindow.start + i, status)}
              />
            ))}
            <PendingMessages
              initial={initialTranscript.pending}
              live={pendingMessages}
              shown={messages}
              status={status}
            />
            {status === "submitted" ? (
              <li data-testid="chat-pending" className="pl-10 text-sm text-zinc-600 dark:text-zinc-400">
                {task?.status === "queued" || isNew ? "Queued — waiting for a machine…" : "Thinking…"}
              </li>
            ) : null}
          </ol>

          {task ? (
            <TaskQuestions taskId={task.id} status={task.status} version={task.history.length} latestOnly />
          ) : null}

          {task?.status === "awaiting_followup" && !busy ? (
            <p data-testid="waiting-for-follow-up" className="text-center text-sm text-amber-800 dark:text-amber-300">
              Waiting for follow-up
            </p>
          ) : null}

          {error ? (
            <div
              role="alert"
              data-testid="chat-error"
              className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
            >
              {messageOf(error)}
            </div>
          ) : null}

          {isNew && props.demoModel && messages.length === 0 ? (
            <section aria-label="Example prompts" className="space-y-2">
              <h3 className="text-xs font-semibold uppercase tracking-wide text-zinc-600 dark:text-zinc-400">
                Try an example
              </h3>
              <ul className="grid gap-2 sm:grid-cols-2">
                {EXAMPLE_PROMPTS.map((example) => (
                  <li key={example.label}>
                    <button
                      type="button"
                      onClick={() => {
                        changeMode(example.mode);
                        setDraft(example.text);
                      }}
                      className="w-full rounded-lg border border-zinc-200 px-3 py-2 text-left text-sm hover:border-blue-400 dark:border-zinc-800"
                    >
                      <span className="font-medium">{example.label}</span>
                      <span className="ml-2 text-xs text-zinc-600 dark:text-zinc-400">{example.mode}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
        </div>
      </div>

      <div className="shrink-0 border-t border-zinc-200 px-4 py-3 dark:border-zinc-800">
        <div className="mx-auto max-w-3xl">
          <ChatComposer
            onSend={send}
            draft={draft}
            onDraftChange={setDraft}
            disabledReason={disabledReason}
            placeholder={
              mode === "task" ? "Describe the task for the agent…" : "Ask about the repository, or think out loud…"
            }
            toolbar={
              isNew ? (
                <ModeToggle mode={mode} onChange={changeMode} disabled={busy} />
              ) : (
                <span data-testid="session-mode" className="text-xs text-zinc-600 dark:text-zinc-400">
                  {mode === "task" ? "Task session" : "Conversation"}
                </span>
              )
            }
          />
        </div>
      </div>
    </div>
  );
}
