import type { Project, ProjectWithRole } from "@/lib/projects/projects";
import { parseCommand, runGroup, UsageError } from "../args";
import { withDb } from "../db";
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
    model: project.model,
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

export function run(argv: string[]): Promise<void> {
  return runGroup("project", argv, {
    add: { summary: "add a project from a git repository path or URL", run: add },
    list: { summary: "list projects", run: list },
  });
}
