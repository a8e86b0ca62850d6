import { parseCommand, runGroup, UsageError } from "../args";
import { withDb } from "../db";
import { checkIdArgument } from "../ids";
import { printJson, printLines } from "../output";

const CREATE_HELP = `Usage: sam task create --project <id> --prompt <text> [--mode task|conversation] [--title T] [--user <email>] [--json]

Queues a task in a project. A running SAM server (npm start) picks it up: a node is found, a
workspace is checked out on a new branch, and an agent works on the prompt.

Options:
  --project <id>     the project: its id, or a unique prefix of at least 8 characters of it
  --prompt <text>    what the agent should do (a \`\`\`sam-script block drives the offline model)
  --mode <mode>      task (default: implement, commit, push) or conversation (discuss; waits for follow-ups)
  --title <title>    a title (default: the prompt's first line)
  --user <email>     who creates it (default: the instance owner)
  --json             print {"id", "status", ...}
  -h, --help         show this help
`;

const SHOW_HELP = `Usage: sam task show <id> [--json]

Shows a task: status, mode, branch, failure reason, parent, children, what blocks it, its token
usage and cost (its own and its subtree's), its status history and the agent's events. <id> is
the task's id or a unique prefix of at least 8 characters of it (the web app shows the first 8); a
prefix several tasks share lists them.

Options:
  --json      print the task, its usage, history and events as JSON
  -h, --help  show this help
`;

const SEND_HELP = `Usage: sam task send <id> <text> [--user <email>] [--json]

Sends a message to a task's session (a conversation's next turn). A session that has not started,
or whose node does not answer, gets it from its inbox as soon as it can. <id> is the task's id or a
unique prefix of at least 8 characters of it, among the tasks of the sender's projects.

Options:
  --user <email>  who sends it (default: the instance owner)
  --json          print {"messageId", "delivered"}
  -h, --help      show this help
`;

async function create(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("task create", argv, {
    options: {
      project: { type: "string" },
      prompt: { type: "string" },
      mode: { type: "string" },
      title: { type: "string" },
      user: { type: "string" },
    },
    positionals: [],
  });
  if (help) return printLines(CREATE_HELP.trimEnd());
  if (values.project === undefined) throw new UsageError("missing --project <id>", "task create");
  if (values.prompt === undefined) throw new UsageError("missing --prompt <text>", "task create");
  const project = values.project;
  await checkIdArgument("task create", "project", project);
  const [{ createTask }, { ensureInstanceOwner, findUserByEmail }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/tasks/create-task"),
    import("@/lib/users"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  const task = await withDb(async (db) => {
    const user = values.user === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.user);
    return createTask(db, user.id, {
      projectId: await resolveIdPrefix(db, "project", { userId: user.id }, project),
      prompt: values.prompt,
      mode: values.mode,
      title: values.title,
    });
  });
  const out = {
    id: task.id,
    status: task.status,
    mode: task.mode,
    title: task.title,
    projectId: task.projectId,
    branch: task.branch,
  };
  if (json) return printJson(out);
  printLines(`Queued task ${task.id} (${task.mode}): ${task.title}`, `  branch: ${task.branch}`);
}

async function show(argv: string[]): Promise<void> {
  const { args, help, json } = parseCommand("task show", argv, { options: {}, positionals: ["id"] });
  if (help) return printLines(SHOW_HELP.trimEnd());
  await checkIdArgument("task show", "task", args.id);
  const [
    { taskDetails, agentEventsOf },
    { eq },
    { tasks },
    { SamError },
    { resolveIdPrefix },
    { formatUsage },
    { waitingOnLabel },
  ] = await Promise.all([
    import("@/lib/tasks/show-task"),
    import("drizzle-orm"),
    import("@/db/schema"),
    import("@/lib/errors"),
    import("@/lib/ids/resolve-prefix"),
    import("@/lib/usage/format"),
    import("@/lib/tasks/waiting-on"),
  ]);
  const { details, events } = await withDb(async (db) => {
    // The command line acts as the instance admin: every task of the instance is found.
    const id = await resolveIdPrefix(db, "task", "operator", args.id);
    const task = await db.query.tasks.findFirst({ where: eq(tasks.id, id) });
    if (!task) throw new SamError("not_found", `No task ${args.id}`);
    const details = await taskDetails(db, task);
    const events = details.sessionId ? await agentEventsOf(db, details.sessionId, 0, 100_000) : [];
    return { details, events };
  });
  if (json) return printJson({ ...details, events });
  printLines(
    `${details.title} (${details.id})`,
    `  status:  ${details.status}${details.failureReason ? ` — ${details.failureReason}` : ""}${
      details.waitingOn > 0 ? ` — ${waitingOnLabel(details.waitingOn)}` : ""
    }`,
    `  mode:    ${details.mode}`,
    `  branch:  ${details.branch ?? (details.status === "completed" ? "none (the task changed nothing)" : "-")}`,
    ...(details.parentId ? [`  parent:  ${details.parentId}`] : []),
    ...(details.children.length > 0
      ? [`  children: ${details.children.map((c) => `${c.id} (${c.status})`).join(", ")}`]
      : []),
    ...(details.blockedBy.length > 0 ? [`  blocked by: ${details.blockedBy.join(", ")}`] : []),
    ...(details.placementWait ? [`  waiting: ${details.placementWait}`] : []),
    ...(details.nodeId ? [`  node:    ${details.nodeId}`] : []),
    details.usage.subtree.inputTokens + details.usage.subtree.outputTokens === 0
      ? "  usage:   none reported"
      : `  usage:   ${formatUsage(details.usage)}; with its subtasks: ${formatUsage(details.usage.subtree)}`,
    "  history:",
    ...details.history.map(
      (h) => `    ${h.at.toISOString()}  ${h.from ?? "-"} → ${h.to}${h.reason ? `  (${h.reason})` : ""}`,
    ),
    `  events: ${events.length}`,
    ...events.slice(-20).map((e) => `    #${e.seq} ${e.type} ${JSON.stringify(e.payload).slice(0, 160)}`),
  );
}

async function send(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("task send", argv, {
    options: { user: { type: "string" } },
    positionals: ["id", "text"],
  });
  if (help) return printLines(SEND_HELP.trimEnd());
  await checkIdArgument("task send", "task", args.id);
  const [{ sendUserMessage }, { ensureInstanceOwner, findUserByEmail }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/orchestrator/send-message"),
    import("@/lib/users"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  const result = await withDb(async (db) => {
    const user = values.user === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.user);
    const taskId = await resolveIdPrefix(db, "task", { userId: user.id }, args.id);
    return sendUserMessage(db, user.id, taskId, { text: args.text });
  });
  if (json) return printJson(result);
  printLines(
    result.delivered ? "Delivered." : "Waiting in the task's inbox; it is delivered when the session can take it.",
  );
}

export function run(argv: string[]): Promise<void> {
  return runGroup("task", argv, {
    create: { summary: "queue a task in a project", run: create },
    show: { summary: "show a task, its children, history and events", run: show },
    send: { summary: "send a follow-up message to a session", run: send },
  });
}
