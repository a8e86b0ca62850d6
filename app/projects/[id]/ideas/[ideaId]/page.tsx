import { inArray } from "drizzle-orm";
import Link from "next/link";
import { notFound } from "next/navigation";
import ReactMarkdown from "react-markdown";
import remarkGfm from "remark-gfm";
import { requireUser } from "@/app/current-user";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { ExecuteIdeaButton } from "@/components/ideas/ExecuteIdeaButton";
import { IdeaEditForm } from "@/components/ideas/IdeaEditForm";
import { IdeaLiveRefresh } from "@/components/ideas/IdeaLiveRefresh";
import { IdeaStatusBadge } from "@/components/ideas/IdeaStatusBadge";
import { PriorityBadge } from "@/components/ideas/PriorityBadge";
import { PullRequestLink } from "@/components/pulls/PullRequestLink";
import { PageBody } from "@/components/shell/PageBody";
import { LocalTime } from "@/components/tasks/LocalTime";
import { TaskStatusBadge } from "@/components/tasks/TaskStatusBadge";
import { type Db, getDb } from "@/db/client";
import { pullRequests } from "@/db/schema";
import { SamError } from "@/lib/errors";
import { ideaDetails } from "@/lib/ideas/ideas";
import { NO_CHANGES_REASON } from "@/lib/ideas/task-outcome";
import { closedUnmergedReason } from "@/lib/pulls/states";
import { executeIdeaAction, updateIdeaAction } from "../actions";

function Section({ title, children, testId }: { title: string; children: React.ReactNode; testId?: string }) {
  return (
    <section data-testid={testId} className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <h2 className="mb-3 font-medium">{title}</h2>
      {children}
    </section>
  );
}

async function loadIdeaOr404(projectId: string, ideaId: string) {
  try {
    return await ideaDetails(getDb(), projectId, ideaId);
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") notFound();
    throw err;
  }
}

/** The pull requests the idea's tasks opened, by task. */
async function pullsOf(db: Db, taskIds: string[]) {
  const rows =
    taskIds.length === 0
      ? []
      : await db.query.pullRequests.findMany({
          where: inArray(pullRequests.taskId, taskIds),
          columns: { taskId: true, number: true, state: true },
        });
  return new Map(rows.map((pr) => [pr.taskId, pr]));
}

export default async function IdeaPage({ params }: { params: Promise<{ id: string; ideaId: string }> }) {
  const user = await requireUser();
  const { id, ideaId } = await params;
  const project = await loadProjectOr404(user.id, id);
  const idea = await loadIdeaOr404(project.id, ideaId);
  const latest = idea.tasks[0];
  const pulls = await pullsOf(
    getDb(),
    idea.tasks.map((t) => t.id),
  );
  const latestPull = latest ? pulls.get(latest.id) : undefined;
  const readOnly = Boolean(project.archivedAt);
  return (
    <PageBody>
      <IdeaLiveRefresh projectId={project.id} ideaId={idea.id} />
      <Link href={`/projects/${project.id}/ideas`} className="text-sm text-zinc-600 hover:underline dark:text-zinc-400">
        ← All ideas
      </Link>
      <header className="mt-2 mb-6 flex flex-wrap items-center gap-3">
        <h2 className="min-w-0 text-2xl font-semibold tracking-tight break-words">{idea.title}</h2>
        <span data-testid="idea-status">
          <IdeaStatusBadge status={idea.status} />
        </span>
        <PriorityBadge priority={idea.priority} />
      </header>
      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_22rem]">
        <div className="min-w-0 space-y-6">
          <Section title="The idea">
            {idea.content ? (
              <div
                data-testid="idea-content"
                className="prose prose-sm max-w-none break-words dark:prose-invert [&_code]:font-mono [&_p]:my-2 [&_pre]:overflow-x-auto [&_pre]:text-xs [&_pre]:rounded [&_pre]:bg-zinc-100 [&_pre]:p-2 dark:[&_pre]:bg-zinc-900 [&_ul]:list-disc [&_ul]:pl-5"
              >
                <ReactMarkdown remarkPlugins={[remarkGfm]}>{idea.content}</ReactMarkdown>
              </div>
            ) : (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">No description yet.</p>
            )}
          </Section>
          <Section title="Edit">
            <IdeaEditForm idea={idea} save={updateIdeaAction.bind(null, project.id, idea.id)} disabled={readOnly} />
          </Section>
        </div>
        <div className="min-w-0 space-y-6">
          <Section title="Execute" testId="idea-execute">
            <p className="mb-3 text-sm text-zinc-600 dark:text-zinc-400">
              Starts a task-mode task whose description carries this idea and what its conversations said. When the pull
              request its work opens is merged the idea is done; when the task fails or changes nothing, or the pull
              request is closed without being merged, the idea returns to Ready.
            </p>
            {latest?.status === "failed" && idea.status === "ready" ? (
              <p
                data-testid="idea-failure"
                role="status"
                className="mb-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
              >
                The last run failed: {latest.failureReason ?? "no reason recorded"}
              </p>
            ) : null}
            {latest?.status === "completed" && !latest.branch && idea.status === "ready" ? (
              <p
                data-testid="idea-unchanged"
                role="status"
                className="mb-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
              >
                Back to Ready: {NO_CHANGES_REASON}.
              </p>
            ) : null}
            {latestPull?.state === "closed" && idea.status === "ready" ? (
              <p
                data-testid="idea-pull-closed"
                role="status"
                className="mb-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
              >
                Back to Ready: {closedUnmergedReason(latestPull.number)}.
              </p>
            ) : null}
            {idea.status === "executing" ? (
              <p className="mb-3 text-sm">
                {latestPull?.state === "open"
                  ? `Its pull request #${latestPull.number} is open: merging it makes the idea done.`
                  : "A task is building this idea."}
              </p>
            ) : null}
            {latestPull ? (
              <p data-testid="idea-pull" className="mb-3 text-sm">
                <PullRequestLink projectId={project.id} pullRequest={latestPull} />
              </p>
            ) : null}
            {readOnly ? (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">An archived project runs no tasks.</p>
            ) : (
              <ExecuteIdeaButton
                execute={executeIdeaAction.bind(null, project.id, idea.id)}
                executing={idea.status === "executing"}
                again={idea.tasks.length > 0}
              />
            )}
          </Section>
          <Section title={`Conversations (${idea.linkedSessions.length})`} testId="idea-conversations">
            {idea.linkedSessions.length === 0 ? (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">Not linked to any conversation.</p>
            ) : (
              <ul className="space-y-2">
                {idea.linkedSessions.map((s) => (
                  <li key={s.sessionId} data-session-id={s.sessionId} className="text-sm">
                    <Link
                      href={`/projects/${project.id}/sessions/${s.sessionId}`}
                      className="font-medium hover:underline"
                    >
                      {s.title}
                    </Link>
                    <span className="ml-2 text-xs text-zinc-600 dark:text-zinc-400">
                      {s.mode} · linked <LocalTime at={s.linkedAt.toISOString()} dateToo />
                    </span>
                    {s.context ? <p className="text-xs text-zinc-600 dark:text-zinc-400">{s.context}</p> : null}
                  </li>
                ))}
              </ul>
            )}
          </Section>
          <Section title={`Tasks run from it (${idea.tasks.length})`} testId="idea-tasks">
            {idea.tasks.length === 0 ? (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">Not executed yet.</p>
            ) : (
              <ul className="space-y-2">
                {idea.tasks.map((t) => (
                  <li key={t.id} data-task-id={t.id} className="text-sm">
                    <div className="flex items-center gap-2">
                      <Link
                        href={`/projects/${project.id}/tasks/${t.id}`}
                        className="min-w-0 truncate font-medium hover:underline"
                      >
                        {t.title}
                      </Link>
                      <span className="ml-auto">
                        <TaskStatusBadge status={t.status} />
                      </span>
                    </div>
                    {t.branch ? (
                      <div
                        data-testid="idea-task-branch"
                        className="truncate font-mono text-xs text-zinc-600 dark:text-zinc-400"
                      >
                        {t.branch}
                      </div>
                    ) : null}
                    {pulls.get(t.id) ? (
                      <div className="text-xs">
                        <PullRequestLink projectId={project.id} pullRequest={pulls.get(t.id)!} />
                      </div>
                    ) : t.prUrl ? (
                      <a href={t.prUrl} className="text-xs text-sky-700 hover:underline dark:text-sky-400">
                        Pull request
                      </a>
                    ) : null}
                    {t.failureReason ? (
                      <p className="text-xs text-red-700 dark:text-red-400">{t.failureReason}</p>
                    ) : null}
                  </li>
                ))}
              </ul>
            )}
          </Section>
        </div>
      </div>
    </PageBody>
  );
}
