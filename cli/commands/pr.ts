import type { z } from "zod";
import type { Db } from "@/db/client";
import type { PullRequestRow } from "@/lib/pulls/figures";
import { parseCommand, runGroup, UsageError } from "../args";
import { withDb } from "../db";
import { checkIdArgument } from "../ids";
import { printJson, printLines, printTable } from "../output";

const USER_OPTION = `  --user <email>     act as this user (default: the instance owner); only the pull requests of
                     that user's projects are found`;
const ID_ARGUMENT = `<id> is the pull request's id or a unique prefix of at least 8 characters of it (\`sam pr list\`
shows them).`;

const LIST_HELP = `Usage: sam pr list --project <id> [--state open|merged|closed] [--user <email>] [--json]

Lists a project's pull requests, newest first: one is opened for every task that completes with
changes (its branch proposed for the task's base branch).

Options:
  --project <id>     the project: its id, or a unique prefix of at least 8 characters of it
  --state <state>    only the open, merged or closed ones (default: all)
${USER_OPTION}
  --json             print a JSON array of {"id", "number", "taskId", "title", "state", "headBranch",
                     "baseBranch", "url", "additions", "deletions", "changedFiles"}
  -h, --help         show this help
`;

const SHOW_HELP = `Usage: sam pr show <id> [--user <email>] [--json]

Shows a pull request: its branches, files changed, commits, whether it merges cleanly (and which
paths conflict) and its comments.

${ID_ARGUMENT}

Options:
${USER_OPTION}
  --json             print the list's fields plus "files", "commits", "mergeable", "conflicts",
                     "comments" and more
  -h, --help         show this help
`;

const MERGE_HELP = `Usage: sam pr merge <id> [--strategy merge|squash|rebase] [--user <email>] [--json]

Merges an open pull request into its base branch, checked first for conflicts (refused naming the
paths). A base branch checked out with uncommitted changes is refused and left as it is. The
branch is deleted afterwards if the project says so.

${ID_ARGUMENT}

Options:
  --strategy <s>     merge (a merge commit, the default), squash (one commit) or rebase (the
                     branch's commits replayed on the base)
${USER_OPTION}
  --json             print {"state": "merged", "mergeCommit"}
  -h, --help         show this help
`;

const CLOSE_HELP = `Usage: sam pr close <id> [--user <email>] [--json]

Closes an open pull request without merging it; an idea executed into its task goes back to
ready.

${ID_ARGUMENT}

Options:
${USER_OPTION}
  --json             print {"state": "closed"}
  -h, --help         show this help
`;

const COMMENT_HELP = `Usage: sam pr comment <id> --body <text> [--path <file> --line <n>] [--user <email>] [--json]

Comments on a pull request: on the whole of it, or on one line of one of its files (--path and
--line together; the line as numbered in the branch's version of the file).

${ID_ARGUMENT}

Options:
  --body <text>      the comment
  --path <file>      a file of the pull request, relative to the repository's root
  --line <n>         a line of that file, from 1
${USER_OPTION}
  --json             print the stored comment
  -h, --help         show this help
`;

const REQUEST_CHANGES_HELP = `Usage: sam pr request-changes <id> [--body <text>] [--user <email>] [--json]

Sends the pull request's comments not sent yet (and --body, added first as a comment on the whole
pull request) to the task's agent: as a message to the task if it is still working, otherwise to
a revision task on the pull request's branch, whose commits the pull request then shows.

${ID_ARGUMENT}

Options:
  --body <text>      a comment on the whole pull request, sent with the others
${USER_OPTION}
  --json             print {"via": "session" or "revision", "taskId", "comments"}
  -h, --help         show this help
`;

const RESOLVE_HELP = `Usage: sam pr resolve <id> [--note <text>] [--user <email>] [--json]

Asks an agent to resolve a pull request's conflicts with its base branch: a revision task starts
on its branch with the base merged in and the conflicts left in the files, and pushes the
resolved merge.

${ID_ARGUMENT}

Options:
  --note <text>      something the agent should know about the conflicts
${USER_OPTION}
  --json             print {"taskId"}
  -h, --help         show this help
`;

type Command = "pr list" | "pr show" | "pr merge" | "pr close" | "pr comment" | "pr request-changes" | "pr resolve";

/**
 * Parses flags with the schema the HTTP API uses for the same input; a refusal names the flag
 * (exit status 2), before the database is opened.
 */
async function parseFlags<S extends z.ZodType>(command: Command, schema: S, input: unknown): Promise<z.infer<S>> {
  const [{ parseInput }, { SamError }] = await Promise.all([import("@/lib/validation"), import("@/lib/errors")]);
  try {
    return parseInput(schema, input);
  } catch (err) {
    const fields = SamError.is(err) && err.code === "invalid_input" ? err.details?.fields : undefined;
    if (!fields) throw err;
    const named = fields.map(({ field, message }) =>
      message.startsWith(`${field} `) ? `--${message}` : `--${field}: ${message}`,
    );
    throw new UsageError(named.join("; "), command);
  }
}

/** Who the command acts as: --user, or the instance owner. */
async function actingUser(db: Db, email: string | undefined) {
  const { ensureInstanceOwner, findUserByEmail } = await import("@/lib/users");
  return email === undefined ? ensureInstanceOwner(db) : findUserByEmail(db, email);
}

/**
 * Runs `fn` with the pull request `idArg` names among the acting user's projects, and that user.
 * The id is checked before the database is opened.
 */
async function withPullRequest<T>(
  command: Command,
  idArg: string,
  email: string | undefined,
  fn: (db: Db, pr: PullRequestRow, userId: string) => Promise<T>,
): Promise<T> {
  await checkIdArgument(command, "pull request", idArg);
  const [{ resolveIdPrefix }, { getPullRequestFor }] = await Promise.all([
    import("@/lib/ids/resolve-prefix"),
    import("@/lib/pulls/access"),
  ]);
  return withDb(async (db) => {
    const user = await actingUser(db, email);
    const requester = { userId: user.id };
    const pr = await getPullRequestFor(db, requester, await resolveIdPrefix(db, "pull request", requester, idArg));
    return fn(db, pr, user.id);
  });
}

const signed = (additions: number, deletions: number) => `+${additions} -${deletions}`;

async function list(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("pr list", argv, {
    options: { project: { type: "string" }, state: { type: "string" }, user: { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(LIST_HELP.trimEnd());
  const project = values.project;
  if (project === undefined) throw new UsageError("missing --project <id>", "pr list");
  const { PULL_REQUEST_STATES } = await import("@/db/schema");
  const state = PULL_REQUEST_STATES.find((s) => s === values.state);
  if (values.state !== undefined && !state) {
    throw new UsageError(
      `--state must be one of ${PULL_REQUEST_STATES.join(", ")} (got ${JSON.stringify(values.state)})`,
      "pr list",
    );
  }
  await checkIdArgument("pr list", "project", project);
  const [{ resolveIdPrefix }, { listPullRequests }] = await Promise.all([
    import("@/lib/ids/resolve-prefix"),
    import("@/lib/pulls/pull-json"),
  ]);
  const pulls = await withDb(async (db) => {
    const user = await actingUser(db, values.user);
    return listPullRequests(db, await resolveIdPrefix(db, "project", { userId: user.id }, project), state);
  });
  if (json) return printJson(pulls);
  if (pulls.length === 0) return printLines(state ? `No ${state} pull requests.` : "No pull requests.");
  printTable([
    ["#", "STATE", "TITLE", "CHANGES", "FILES", "BRANCH", "ID"],
    ...pulls.map((p) => [
      String(p.number),
      p.state,
      p.title,
      signed(p.additions, p.deletions),
      String(p.changedFiles),
      `${p.headBranch} → ${p.baseBranch}`,
      p.id,
    ]),
  ]);
}

async function show(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("pr show", argv, {
    options: { user: { type: "string" } },
    positionals: ["id"],
  });
  if (help) return printLines(SHOW_HELP.trimEnd());
  const { showPullRequest } = await import("@/lib/pulls/pull-json");
  const pr = await withPullRequest("pr show", args.id, values.user, (db, row) => showPullRequest(db, row));
  if (json) return printJson(pr);
  const merge =
    pr.state !== "open"
      ? `${pr.state}${pr.mergeCommit ? ` as ${pr.mergeCommit} (${pr.mergeStrategy})` : ""}`
      : pr.mergeable
        ? "mergeable"
        : pr.conflicts.length > 0
          ? `not mergeable: conflicts in ${pr.conflicts.join(", ")}`
          : "not mergeable";
  printLines(
    `#${pr.number} ${pr.title} (${pr.id})`,
    `  state:   ${merge}`,
    `  branch:  ${pr.headBranch} → ${pr.baseBranch}`,
    `  task:    ${pr.taskId}`,
    `  changes: ${pr.changedFiles} file${pr.changedFiles === 1 ? "" : "s"}, ${signed(pr.additions, pr.deletions)}`,
    ...(pr.url ? [`  url:     ${pr.url}`] : []),
    "  files:",
    ...pr.files.map((f) => `    ${f.status.padEnd(8)} ${f.path}  ${signed(f.additions, f.deletions)}`),
    "  commits:",
    ...pr.commits.map((c) => `    ${c.sha.slice(0, 12)} ${c.message.split("\n")[0]}`),
    `  comments: ${pr.comments.length}`,
    ...pr.comments.map(
      (c) => `    ${c.author}${c.path ? ` on ${c.path}:${c.line}` : ""}: ${c.body.replace(/\s+/g, " ")}`,
    ),
  );
}

async function merge(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("pr merge", argv, {
    options: { strategy: { type: "string" }, user: { type: "string" } },
    positionals: ["id"],
  });
  if (help) return printLines(MERGE_HELP.trimEnd());
  const { mergePullRequest, mergePullRequestSchema } = await import("@/lib/pulls/merge");
  const { strategy } = await parseFlags("pr merge", mergePullRequestSchema, { strategy: values.strategy });
  const { result, pr } = await withPullRequest("pr merge", args.id, values.user, async (db, row, userId) => ({
    result: await mergePullRequest(db, row, { userId, strategy }),
    pr: row,
  }));
  if (json) return printJson(result);
  printLines(`Merged pull request #${pr.number} into ${pr.baseBranch} (${strategy}): ${result.mergeCommit}`);
}

async function close(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("pr close", argv, {
    options: { user: { type: "string" } },
    positionals: ["id"],
  });
  if (help) return printLines(CLOSE_HELP.trimEnd());
  const { closePullRequest } = await import("@/lib/pulls/close");
  const { result, pr } = await withPullRequest("pr close", args.id, values.user, async (db, row, userId) => ({
    result: await closePullRequest(db, row, { userId }),
    pr: row,
  }));
  if (json) return printJson(result);
  printLines(`Closed pull request #${pr.number} without merging it.`);
}

async function comment(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("pr comment", argv, {
    options: {
      body: { type: "string" },
      path: { type: "string" },
      line: { type: "string" },
      user: { type: "string" },
    },
    positionals: ["id"],
  });
  if (help) return printLines(COMMENT_HELP.trimEnd());
  const { addComment, commentSchema } = await import("@/lib/pulls/comments");
  const input = await parseFlags("pr comment", commentSchema, {
    body: values.body,
    path: values.path,
    line: values.line,
  });
  const { added, pr } = await withPullRequest("pr comment", args.id, values.user, async (db, row, userId) => ({
    added: await addComment(db, row, userId, input),
    pr: row,
  }));
  if (json) return printJson(added);
  const where = added.path ? ` on ${added.path} line ${added.line}` : "";
  printLines(`Commented on pull request #${pr.number}${where}.`);
}

async function requestChanges(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("pr request-changes", argv, {
    options: { body: { type: "string" }, user: { type: "string" } },
    positionals: ["id"],
  });
  if (help) return printLines(REQUEST_CHANGES_HELP.trimEnd());
  const revise = await import("@/lib/pulls/revise");
  const input = await parseFlags("pr request-changes", revise.requestChangesSchema, { body: values.body });
  const result = await withPullRequest("pr request-changes", args.id, values.user, (db, pr, userId) =>
    revise.requestChanges(db, pr, { ...input, userId }),
  );
  if (json) return printJson(result);
  const sent = `${result.comments} comment${result.comments === 1 ? "" : "s"}`;
  printLines(
    result.via === "session"
      ? `Sent ${sent} to task ${result.taskId}, which is still working on the pull request.`
      : `Sent ${sent} to a new revision task ${result.taskId} on the pull request's branch.`,
  );
}

async function resolve(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("pr resolve", argv, {
    options: { note: { type: "string" }, user: { type: "string" } },
    positionals: ["id"],
  });
  if (help) return printLines(RESOLVE_HELP.trimEnd());
  const revise = await import("@/lib/pulls/revise");
  const input = await parseFlags("pr resolve", revise.resolveConflictsSchema, { note: values.note });
  const result = await withPullRequest("pr resolve", args.id, values.user, (db, pr, userId) =>
    revise.askAgentToResolve(db, pr, { ...input, userId }),
  );
  if (json) return printJson(result);
  printLines(`Asked revision task ${result.taskId} to resolve the conflicts on the pull request's branch.`);
}

export function run(argv: string[]): Promise<void> {
  return runGroup("pr", argv, {
    list: { summary: "list a project's pull requests", run: list },
    show: { summary: "show a pull request: files, commits, mergeability, comments", run: show },
    merge: { summary: "merge a pull request into its base branch", run: merge },
    close: { summary: "close a pull request without merging it", run: close },
    comment: { summary: "comment on a pull request or one line of it", run: comment },
    "request-changes": { summary: "send the comments to the task's agent to address", run: requestChanges },
    resolve: { summary: "ask an agent to resolve the conflicts with the base branch", run: resolve },
  });
}
