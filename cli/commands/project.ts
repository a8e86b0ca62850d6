import type { Project, ProjectWithRole } from "@/lib/projects/projects";
import { parseCommand, runGroup, UsageError } from "../args";
import { withDb } from "../db";
import { checkIdArgument } from "../ids";
import { printJson, printLines, printTable } from "../output";

const ADD_HELP = `Usage: sam project add <path-or-url> [--name <name>] [--owner <email>] [--json]

Adds a project from a git repository: a local path, or a remote URL (https://, ssh://,
git@host:path, file://). The repository is checked and its default branch detected. The command
line acts as the instance admin (it runs on the server host), so local paths are allowed here even
for a project given to another owner; in the web app and the API only the admin may add them.

Options:
  --name <name>     project name (default: the repository's name)
  --owner <email>   the user who owns the project (default: the instance owner)
  --json            print {"id", "name", "repo", "defaultBranch", ...}
  -h, --help        show this help
`;

const LIST_HELP = `Usage: sam project list [--user <email> | --all] [--archived] [--json]

Lists the projects of the instance owner, of one user, or of everyone.

Options:
  --user <email>  the projects this user is a member of
  --all           every project of the instance, whoever its members are
  --archived      include archived projects
  --json          print a JSON array of {"id", "name", "repo", "defaultBranch", ...}
  -h, --help      show this help
`;

const CONFIGURE_HELP = `Usage: sam project configure <id> [--harness H] [--agent-command CMD] [--model M]
                             [--base-url URL] [--network open|none] [--permission-policy allow|deny]
                             [--node-labels a,b] [--user <email>] [--json]

Changes how a project's agents run, then prints its settings; with no option it only prints them.
Every value is checked before anything changes: one bad option changes nothing. <id> is the
project's id or a unique prefix of at least 8 characters of it.

Options:
  --harness <h>             builtin, builtin-subprocess, claude-code, codex, gemini, opencode,
                            qwen-code or acp (a custom ACP agent: give --agent-command)
  --agent-command <cmd>     the command that starts the custom ACP agent
  --model <m>               scripted, or provider:model with the provider anthropic, openai, google or
                            openai-compatible (its key secret must be stored first: sam secret set)
  --base-url <url>          the OpenAI-compatible server (Ollama, vLLM), e.g. http://127.0.0.1:11434/v1;
                            "" for the default
  --network <mode>          open (agents reach the internet) or none (only SAM's MCP endpoint)
  --permission-policy <p>   how agents' permission requests are answered: allow (default) or deny
  --node-labels <a,b>       labels a node must have to run the project's tasks; "" for any node
  --user <email>            act as this owner (default: the instance owner)
  --json                    print the project's settings as JSON
  -h, --help                show this help
`;

/** The option that sets each setting, to name it when a value is refused. */
const CONFIGURE_FLAGS: Record<string, string> = {
  harness: "--harness",
  agentCommand: "--agent-command",
  model: "--model",
  modelBaseUrl: "--base-url",
  network: "--network",
  permissionPolicy: "--permission-policy",
  nodeLabels: "--node-labels",
};

/** The stable JSON shape of a project; `role` is the listed user's role, absent for --all. */
function projectJson(project: Project | ProjectWithRole) {
  return {
    id: project.id,
    name: project.name,
    repo: project.repo,
    repoKind: project.repoKind,
    defaultBranch: project.defaultBranch,
    ...("role" in project ? { role: project.role } : {}),
    maxDepth: project.maxDepth,
    maxChildren: project.maxChildren,
    maxActiveDispatched: project.maxActiveDispatched,
    maxRetries: project.maxRetries,
    stopGraceSeconds: project.stopGraceSeconds,
    harness: project.harness,
    agentCommand: project.agentCommand,
    permissionPolicy: project.permissionPolicy,
    model: project.model,
    modelBaseUrl: project.modelBaseUrl,
    network: project.network,
    nodeLabels: JSON.parse(project.nodeLabels) as string[],
    deleteBranches: project.deleteBranches,
    githubUrl: project.githubUrl,
    createdAt: project.createdAt,
    archivedAt: project.archivedAt,
  };
}

async function add(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("project add", argv, {
    options: { name: { type: "string" }, owner: { type: "string" } },
    positionals: ["path-or-url"],
  });
  if (help) return printLines(ADD_HELP.trimEnd());
  const [{ createProject }, { ensureInstanceOwner, findUserByEmail }] = await Promise.all([
    import("@/lib/projects/projects"),
    import("@/lib/users"),
  ]);
  const project = await withDb(async (db) => {
    const owner = values.owner === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.owner);
    return createProject(db, owner.id, { repo: args["path-or-url"], name: values.name }, "operator");
  });
  if (json) return printJson(projectJson(project));
  printLines(
    `Added project ${project.name} (${project.id})`,
    `  repo:           ${project.repo}`,
    `  default branch: ${project.defaultBranch}`,
  );
}

async function list(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("project list", argv, {
    options: { user: { type: "string" }, all: { type: "boolean" }, archived: { type: "boolean" } },
    positionals: [],
  });
  if (help) return printLines(LIST_HELP.trimEnd());
  if (values.all && values.user !== undefined) throw new UsageError("use either --user or --all", "project list");
  const [{ listAllProjects, listProjects }, { ensureInstanceOwner, findUserByEmail }] = await Promise.all([
    import("@/lib/projects/projects"),
    import("@/lib/users"),
  ]);
  const includeArchived = values.archived === true;
  const projects = await withDb(async (db): Promise<(Project | ProjectWithRole)[]> => {
    if (values.all) return listAllProjects(db, "operator", { includeArchived });
    const user = values.user === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.user);
    return listProjects(db, user.id, { includeArchived });
  });
  if (json) return printJson(projects.map(projectJson));
  if (projects.length === 0) return printLines("No projects. Add one with: sam project add <path-or-url>");
  printTable([
    ["ID", "NAME", "BRANCH", "REPO", ""],
    ...projects.map((p) => [p.id, p.name, p.defaultBranch, p.repo, p.archivedAt ? "archived" : ""]),
  ]);
}

async function configure(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("project configure", argv, {
    options: {
      harness: { type: "string" },
      "agent-command": { type: "string" },
      model: { type: "string" },
      "base-url": { type: "string" },
      network: { type: "string" },
      "permission-policy": { type: "string" },
      "node-labels": { type: "string" },
      user: { type: "string" },
    },
    positionals: ["id"],
  });
  if (help) return printLines(CONFIGURE_HELP.trimEnd());
  await checkIdArgument("project configure", "project", args.id);
  const [{ getProjectForUser, updateProjectSettings }, { projectSettingsSchema }, { parseInput }, { SamError }] =
    await Promise.all([
      import("@/lib/projects/projects"),
      import("@/lib/projects/settings"),
      import("@/lib/validation"),
      import("@/lib/errors"),
    ]);
  const input = Object.fromEntries(
    Object.entries({
      harness: values.harness,
      agentCommand: values["agent-command"],
      model: values.model,
      modelBaseUrl: values["base-url"],
      network: values.network,
      permissionPolicy: values["permission-policy"],
      nodeLabels: values["node-labels"],
    }).filter(([, v]) => v !== undefined),
  );
  // Checked before the database is opened: a bad value is a usage error naming its option.
  try {
    parseInput(projectSettingsSchema, input);
  } catch (err) {
    const fields = SamError.is(err) && err.code === "invalid_input" ? err.details?.fields : undefined;
    if (!fields) throw err;
    const named = fields.map(({ field, message }) => `${CONFIGURE_FLAGS[field] ?? field}: ${message}`);
    throw new UsageError(named.join("; "), "project configure");
  }
  const [{ ensureInstanceOwner, findUserByEmail }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/users"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  const project = await withDb(async (db) => {
    const user = values.user === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.user);
    const id = await resolveIdPrefix(db, "project", { userId: user.id }, args.id);
    if (Object.keys(input).length > 0) await updateProjectSettings(db, user.id, id, input);
    return getProjectForUser(db, user.id, id);
  });
  if (json) return printJson(projectJson(project));
  printLines(
    `Project ${project.name} (${project.id})`,
    `  harness:            ${project.harness}${project.agentCommand ? ` (${project.agentCommand})` : ""}`,
    `  model:              ${project.model}${project.modelBaseUrl ? ` at ${project.modelBaseUrl}` : ""}`,
    `  network:            ${project.network}`,
    `  permission policy:  ${project.permissionPolicy}`,
    `  node labels:        ${(JSON.parse(project.nodeLabels) as string[]).join(", ") || "any node"}`,
  );
}

export function run(argv: string[]): Promise<void> {
  return runGroup("project", argv, {
    add: { summary: "add a project from a git repository path or URL", run: add },
    list: { summary: "list projects", run: list },
    configure: { summary: "set a project's harness, model, base URL and network", run: configure },
  });
}
