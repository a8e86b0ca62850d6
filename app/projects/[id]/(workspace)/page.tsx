import { randomUUID } from "node:crypto";
import { requireUser } from "@/app/current-user";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { ChatView } from "@/components/chat/ChatView";
import { ProjectSummary } from "@/components/projects/ProjectSummary";
import { getDb } from "@/db/client";
import { chatModeOf } from "@/lib/chat/send";
import { saveChatModeAction } from "./chat-actions";

/** A new chat in the project: the first message starts a conversation or a task. */
export default async function ProjectChatPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const project = await loadProjectOr404(user.id, (await params).id);
  const preferredMode = await chatModeOf(getDb(), user.id);
  return (
    <ChatView
      // A fresh chat each time the page is visited, even from a chat that got its session here.
      key={randomUUID()}
      projectId={project.id}
      initialTranscript={{ messages: [], lastSeq: 0 }}
      preferredMode={preferredMode}
      saveMode={saveChatModeAction}
      demoModel={project.model === "scripted"}
      archived={project.archivedAt !== null}
      intro={
        <details className="rounded-lg border border-zinc-200 p-3 text-sm dark:border-zinc-800">
          <summary className="cursor-pointer font-medium">About this project</summary>
          <div className="mt-3">
            <ProjectSummary project={project} />
          </div>
        </details>
      }
    />
  );
}
