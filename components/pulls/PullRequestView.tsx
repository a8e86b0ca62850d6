import Link from "next/link";
import { MarkdownText } from "@/components/chat/MarkdownText";
import type { FormAction } from "@/components/forms/action-state";
import { LocalTime } from "@/components/tasks/LocalTime";
import type { PullDetail } from "@/lib/pulls/pull-json";
import { CommentForm, CommentView } from "./LineComment";
import { MergeBox } from "./MergeBox";
import { PullDiffs } from "./PullDiffs";
import { PullLiveRefresh } from "./PullLiveRefresh";
import { LineCounts, PullStateBadge } from "./PullStateBadge";
import type { FileDiff } from "./pull-types";
import { RequestChanges } from "./RequestChanges";

export interface PullActions {
  merge: FormAction;
  close: FormAction;
  comment: FormAction;
  requestChanges: FormAction;
  resolve: FormAction;
}

function Section({ title, testId, children }: { title: string; testId?: string; children: React.ReactNode }) {
  return (
    <section data-testid={testId} className="space-y-2">
      <h2 className="font-medium">{title}</h2>
      {children}
    </section>
  );
}

/**
 * A pull request whole, for its page and for the chat's right panel alike: what it is, whether it
 * merges, its commits, files, diffs and comments, kept current by its stream.
 */
export function PullRequestView({
  projectId,
  pull,
  diffs,
  actions,
}: {
  projectId: string;
  pull: PullDetail;
  diffs: FileDiff[];
  actions: PullActions;
}) {
  return (
    <div className="@container min-w-0 space-y-6" data-testid="pull-request">
      <PullLiveRefresh pullId={pull.id} />
      <header className="space-y-2">
        <div className="flex flex-wrap items-center gap-2">
          <h1 className="min-w-0 break-words text-2xl font-semibold tracking-tight">
            {pull.title} <span className="font-normal text-zinc-600 dark:text-zinc-400">#{pull.number}</span>
          </h1>
          <PullStateBadge state={pull.state} />
        </div>
        <p className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm text-zinc-600 dark:text-zinc-400">
          <span>
            <span className="font-mono text-zinc-900 dark:text-zinc-100">{pull.headBranch}</span> →{" "}
            <span className="font-mono text-zinc-900 dark:text-zinc-100">{pull.baseBranch}</span>
          </span>
          <LineCounts additions={pull.additions} deletions={pull.deletions} />
          <span>
            {pull.changedFiles} {pull.changedFiles === 1 ? "file" : "files"}
          </span>
          <Link href={`/projects/${projectId}/tasks/${pull.taskId}`} className="underline">
            The task
          </Link>
          {pull.url ? (
            <a href={pull.url} target="_blank" rel="noopener noreferrer" className="underline">
              On GitHub
            </a>
          ) : null}
          <span>
            opened <LocalTime at={pull.createdAt} dateToo />
          </span>
        </p>
      </header>
      {/* On a narrow screen the merge box comes first; beside the diffs it sits on the right. */}
      <div className="grid gap-6 @3xl:grid-cols-[minmax(0,1fr)_18rem]">
        <aside aria-label="Merge, commits and files" className="min-w-0 space-y-6 @3xl:order-2">
          {pull.state === "open" ? (
            <MergeBox
              mergeable={pull.mergeable}
              conflicts={pull.conflicts}
              baseBranch={pull.baseBranch}
              merge={actions.merge}
              close={actions.close}
              resolve={actions.resolve}
            />
          ) : (
            <p
              data-testid="pull-settled"
              className="rounded-lg border border-zinc-200 p-4 text-sm dark:border-zinc-800"
            >
              {pull.state === "merged" && pull.mergedAt ? (
                <>
                  Merged into <span className="font-mono">{pull.baseBranch}</span>
                  {pull.mergeStrategy ? ` (${pull.mergeStrategy})` : ""} as{" "}
                  <span className="font-mono">{pull.mergeCommit?.slice(0, 12)}</span>,{" "}
                  <LocalTime at={pull.mergedAt} dateToo />.
                </>
              ) : pull.closedAt ? (
                <>
                  Closed without merging, <LocalTime at={pull.closedAt} dateToo />.
                </>
              ) : (
                `This pull request is ${pull.state}.`
              )}
            </p>
          )}
          {pull.state === "open" ? <RequestChanges request={actions.requestChanges} /> : null}
          <Section title={`Commits (${pull.commits.length})`} testId="pull-commits">
            <ol className="space-y-1 text-sm">
              {pull.commits.map((c) => (
                <li key={c.sha} className="flex min-w-0 gap-2">
                  <span className="shrink-0 font-mono text-zinc-600 dark:text-zinc-400">{c.sha.slice(0, 7)}</span>
                  <span className="min-w-0 truncate">{c.message.split("\n")[0]}</span>
                </li>
              ))}
            </ol>
          </Section>
          <Section title={`Files changed (${pull.files.length})`} testId="pull-files">
            <ul className="space-y-1 text-sm">
              {pull.files.map((f) => (
                <li key={f.path} className="flex min-w-0 items-center gap-2">
                  <span className="min-w-0 flex-1 truncate font-mono">{f.path}</span>
                  <span className="text-xs text-zinc-600 dark:text-zinc-400">{f.status}</span>
                  <LineCounts additions={f.additions} deletions={f.deletions} />
                </li>
              ))}
            </ul>
          </Section>
        </aside>
        <div className="min-w-0 space-y-6 @3xl:order-1">
          {pull.body.trim() ? (
            <div data-testid="pull-body" className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
              <MarkdownText text={pull.body} />
            </div>
          ) : null}
          <Section title="Changes">
            <PullDiffs files={diffs} comments={pull.comments} comment={actions.comment} />
          </Section>
        </div>
      </div>
      <Section title={`Comments (${pull.comments.length})`} testId="pull-comments">
        {pull.comments.length === 0 ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">No comments yet.</p>
        ) : (
          <div className="space-y-2">
            {pull.comments.map((c) => (
              <CommentView key={c.id} comment={c} />
            ))}
          </div>
        )}
        <div className="rounded-lg border border-zinc-200 dark:border-zinc-800">
          <CommentForm comment={actions.comment} />
        </div>
      </Section>
    </div>
  );
}
