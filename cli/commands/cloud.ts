import type { CloudScope, CloudSettingsView } from "@/lib/nodes/cloud/settings";
import { parseCommand, runGroup, UsageError } from "../args";
import { withDb } from "../db";
import { checkIdArgument } from "../ids";
import { printJson, printLines, printTable } from "../output";
import { readValue } from "./secret";

const SCOPE_HELP = `  --project <id>        a project's own settings (default: the instance's, for projects
                        without their own)
  --user <email>        act as this user (default: the instance owner)
  --json                print the settings as JSON (never the token)
  -h, --help            show this help`;

const SET_HELP = `Usage: sam cloud set [--project <id>] [options]

Where SAM creates VMs when no node has room for queued work (Hetzner Cloud). What is not given
keeps its stored value; the first time, --server-type and --location are required.

The API token: a project names one of its secrets (--token-secret, default HCLOUD_TOKEN; store
it first with \`sam secret set <project-id> HCLOUD_TOKEN\`); the instance reads the token itself
from standard input with --token-stdin (stored encrypted, never shown again).

  printf %s "$HCLOUD_TOKEN" | sam cloud set --token-stdin --server-type cx22 --location fsn1

Options:
  --server-type <name>  Hetzner server type (cx22, cpx31, ...)
  --location <name>     Hetzner location (fsn1, nbg1, hel1, ash, hil, sin)
  --image <name>        image (default debian-12)
  --labels <a,b>        labels the VMs get (a project requiring labels runs only on nodes with them)
  --capacity <n>        tasks one VM runs at once (default 4)
  --max-vms <n>         VMs at most (default 3)
  --warm-minutes <n>    how long an idle VM is kept for reuse before it is deleted (default 30)
  --warm-pool <n>       idle VMs kept ready at all times (default 0)
  --enabled <bool>      false: no new VMs, idle ones are deleted (default true)
  --token-secret <NAME> project: the secret holding the token
  --token-stdin         instance: read the token from standard input
${SCOPE_HELP}
`;

const SHOW_HELP = `Usage: sam cloud show [--project <id>] [--json]

Shows the cloud settings, their VMs and the last error (creation failures back off: the next try
is at "backoff until"). The token is never shown.

Options:
${SCOPE_HELP}
`;

const CLEAR_HELP = `Usage: sam cloud clear [--project <id>]

Removes the cloud settings. Refused while VMs made with them exist: set --enabled false first
(idle VMs are deleted), then clear.

Options:
${SCOPE_HELP}
`;

const SCOPE_OPTIONS = { project: { type: "string" }, user: { type: "string" } } as const;

/** A number option as the schema takes it: a number, or the text as typed so the schema says what is wrong. */
function numberOf(text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  return /^-?\d+$/.test(text.trim()) ? Number(text) : text;
}

function booleanOf(text: string | undefined): boolean | string | undefined {
  if (text === undefined) return undefined;
  return text === "true" ? true : text === "false" ? false : text;
}

async function withScope<T>(
  command: string,
  values: { project?: string; user?: string },
  fn: (db: import("@/db/client").Db, userId: string, scope: CloudScope) => Promise<T>,
): Promise<T> {
  if (values.project !== undefined) await checkIdArgument(command, "project", values.project);
  const [{ ensureInstanceOwner, findUserByEmail }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/users"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  return withDb(async (db) => {
    const user = values.user === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, values.user);
    const scope: CloudScope =
      values.project === undefined
        ? "instance"
        : { projectId: await resolveIdPrefix(db, "project", { userId: user.id }, values.project) };
    return fn(db, user.id, scope);
  });
}

function printSettings(s: CloudSettingsView): void {
  const rows = [
    ["scope", s.scope === "project" ? `project ${s.projectId}` : "instance"],
    ["provider", s.provider],
    ["token", s.tokenSecret ? `project secret ${s.tokenSecret}` : s.tokenSet ? "set (encrypted)" : "not set"],
    ["server type", s.serverType],
    ["location", s.location],
    ["image", s.image],
    ["labels", s.labels.join(",") || "-"],
    ["capacity", String(s.capacity)],
    ["max VMs", String(s.maxVms)],
    ["warm minutes", String(s.warmMinutes)],
    ["warm pool", String(s.warmPool)],
    ["enabled", String(s.enabled)],
    ["VMs now", String(s.vms)],
    ["failures", String(s.failures)],
  ];
  if (s.backoffUntil) rows.push(["backoff until", s.backoffUntil.toISOString()]);
  if (s.lastError) rows.push(["last error", `${s.lastErrorAt?.toISOString() ?? ""} ${s.lastError}`]);
  printTable(rows);
}

async function set(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("cloud set", argv, {
    options: {
      ...SCOPE_OPTIONS,
      "server-type": { type: "string" },
      location: { type: "string" },
      image: { type: "string" },
      labels: { type: "string" },
      capacity: { type: "string" },
      "max-vms": { type: "string" },
      "warm-minutes": { type: "string" },
      "warm-pool": { type: "string" },
      enabled: { type: "string" },
      "token-secret": { type: "string" },
      "token-stdin": { type: "boolean" },
    },
    positionals: [],
  });
  if (help) return printLines(SET_HELP.trimEnd());
  let token: string | undefined;
  if (values["token-stdin"]) {
    token = (await readValue()).replace(/\r?\n$/, "");
    if (token === "") throw new UsageError("no token on standard input", "cloud set");
  }
  const input = Object.fromEntries(
    Object.entries({
      serverType: values["server-type"],
      location: values.location,
      image: values.image,
      labels: values.labels === undefined ? undefined : values.labels.split(",").filter((l) => l.trim() !== ""),
      capacity: numberOf(values.capacity),
      maxVms: numberOf(values["max-vms"]),
      warmMinutes: numberOf(values["warm-minutes"]),
      warmPool: numberOf(values["warm-pool"]),
      enabled: booleanOf(values.enabled),
      tokenSecret: values["token-secret"],
      token,
    }).filter(([, v]) => v !== undefined),
  );
  const [{ setCloudSettings }, { instanceSecretKey }] = await Promise.all([
    import("@/lib/nodes/cloud/settings"),
    import("@/lib/secrets/instance-key"),
  ]);
  const saved = await withScope("cloud set", values, (db, userId, scope) =>
    setCloudSettings(db, instanceSecretKey(), userId, scope, input),
  );
  if (json) return printJson(saved);
  printSettings(saved);
}

async function show(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("cloud show", argv, { options: SCOPE_OPTIONS, positionals: [] });
  if (help) return printLines(SHOW_HELP.trimEnd());
  const { getCloudSettings } = await import("@/lib/nodes/cloud/settings");
  const settings = await withScope("cloud show", values, (db, userId, scope) => getCloudSettings(db, userId, scope));
  if (json) return printJson(settings ?? null);
  if (!settings) return printLines("No cloud settings. Add them with: sam cloud set --help");
  printSettings(settings);
}

async function clear(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("cloud clear", argv, { options: SCOPE_OPTIONS, positionals: [] });
  if (help) return printLines(CLEAR_HELP.trimEnd());
  const { clearCloudSettings } = await import("@/lib/nodes/cloud/settings");
  await withScope("cloud clear", values, (db, userId, scope) => clearCloudSettings(db, userId, scope));
  if (json) return printJson({ cleared: true });
  printLines("Cloud settings removed.");
}

export function run(argv: string[]): Promise<void> {
  return runGroup("cloud", argv, {
    set: { summary: "set where SAM creates VMs when no node has room (Hetzner)", run: set },
    show: { summary: "show the cloud settings, their VMs and the last error", run: show },
    clear: { summary: "remove the cloud settings", run: clear },
  });
}
