import { notFound } from "next/navigation";
import { requireUser } from "@/app/current-user";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { ChatView } from "@/components/chat/ChatView";
import { toJson } from "@/components/tasks/task-json";
import { getDb } from "@/db/client";
import { chatModeOf } from "@/lib/chat/send";
import { getSessionForUser } from "@/lib/chat/sessions";
import { loadTranscript } from "@/lib/chat/transcript";
import { SamError } from "@/lib/errors";
import { listSessionIdeas } from "@/lib/ideas/session-ideas";
import { taskDetails } from "@/lib/tasks/show-task";
import { saveChatModeAction } from "../../chat-actions";

async function loadSessionOr404(userId: string, projectId: string, sessionId: string) {
  try {
    const found = await getSessionForUser(getDb(), userId, sessionId);
    if (found.session.projectId !== projectId) notFound();
    return found;
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") notFound();
    throw err;
  }
}

/** One chat session: its transcript from the stored events, live while the agent works. */
export default async function SessionPage({ params }: { params: Promise<{ id: string; sessionId: string }> }) {
  const user = await requireUser();
  const { id, sessionId } = await params;
  const project = await loadProjectOr404(user.id, id);
  const { session, task } = await loadSessionOr404(user.id, project.id, sessionId);
  const db = getDb();
  const [transcript, details, preferredMode, ideas] = await Promise.all([
    loadTranscript(db, session.id, user.id),
    taskDetails(db, task),
    chatModeOf(db, user.id),
    listSessionIdeas(db, session.id),
  ]);
  return (
    <ChatView
      key={session.id}
      projectId={project.id}
      session={{ id: session.id, taskId: task.id, mode: task.mode, title: session.title }}
      initialTranscript={transcript}
      initialTask={toJson(details)}
      preferredMode={preferredMode}
      saveMode={saveChatModeAction}
      demoModel={(task.model ?? project.model) === "scripted"}
      archived={project.archivedAt !== null}
      graceSeconds={project.stopGraceSeconds}
      initialIdeas={ideas.map(({ linkedAt: _, ...idea }) => idea)}
    />
  );
}
