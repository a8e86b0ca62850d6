import type { Db } from "@/db/client";
import type { User } from "@/lib/users";
import type { WebhookDeliverySummary, WebhookSummary } from "@/lib/webhooks/store";
import { parseCommand, runGroup, UsageError } from "../args";
import { withDb } from "../db";
import { checkIdArgument } from "../ids";
import { printJson, printLines, printTable } from "../output";
import { readValue } from "./secret";

const ADD_HELP = `Usage: sam webhook add --project <id> --url <url> [--format slack|discord|json] [--secret S | --secret-stdin] [--kinds a,b] [--user <email>] [--json]

Adds a webhook to a project (owners only): SAM posts the project's notifications to it. The URL
and the secret are stored encrypted and never shown again; lists show the scheme and host only.
Link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10) are refused; addresses on this
machine and your LAN are allowed.

  sam webhook add --project 3f2a9c1e --url https://hooks.slack.com/services/… --format slack
  printf %s "$SIGNING_SECRET" | sam webhook add --project 3f2a9c1e --url https://ci.example.com/sam --secret-stdin

Options:
  --project <id>    the project: its id, or a unique prefix of at least 8 characters of it
  --url <url>       where to post (http or https)
  --format <f>      slack, discord or json (default: json)
  --secret <s>      json only: sign each body (X-SAM-Signature-256: sha256=<hex HMAC-SHA256>);
                    at least 16 characters. It lands in your shell history: prefer --secret-stdin
  --secret-stdin    read the secret from standard input (one trailing newline is dropped)
  --kinds <a,b>     which notifications, among needs_input, task_completed, task_failed,
                    pr_opened, pr_merged, progress (default: all but progress)
  --user <email>    act as this owner (default: the instance owner)
  --json            print {"id", "projectId", "urlHint", "format", "signed", "kinds", "createdAt"}
  -h, --help        show this help
`;

const LIST_HELP = `Usage: sam webhook list --project <id> [--user <email>] [--json]

Lists a project's webhooks (owners only): id, where they post (scheme and host), format, whether
they are signed, and the kinds they get. Never their URLs or secrets.

Options:
  --project <id>    the project: its id, or a unique prefix of at least 8 characters of it
  --user <email>    act as this owner (default: the instance owner)
  --json            print a JSON array of {"id", "projectId", "urlHint", "format", "signed", "kinds", "createdAt"}
  -h, --help        show this help
`;

const REMOVE_HELP = `Usage: sam webhook remove <webhook-id> [--user <email>] [--json]

Removes a webhook (owners only); nothing more is sent to it, pending retries included.

Options:
  --user <email>    act as this owner (default: the instance owner)
  --json            print {"id", "removed": true}
  -h, --help        show this help
`;

const DELIVERIES_HELP = `Usage: sam webhook deliveries <webhook-id> [--user <email>] [--json]

A webhook's delivery log, newest first (the last 50): status (pending, delivered, failed),
attempts with the receiver's status code or the error, and when the next attempt is due.

Options:
  --user <email>    act as this owner (default: the instance owner)
  --json            print a JSON array of deliveries, each with its attemptLog
  -h, --help        show this help
`;

const REPLAY_HELP = `Usage: sam webhook replay <delivery-id> [--user <email>] [--json]

Sends a delivery's event again, as a new delivery; the running server sends it at its next pass
(within a second by default) and retries it like any other.

Options:
  --user <email>    act as this owner (default: the instance owner)
  --json            print the new delivery
  -h, --help        show this help
`;

/** Runs `fn` as the acting user: --user, or the instance owner. */
async function asUser<T>(email: string | undefined, fn: (db: Db, user: User) => Promise<T>): Promise<T> {
  const { ensureInstanceOwner, findUserByEmail } = await import("@/lib/users");
  return withDb(async (db) => {
    const user = email === undefined ? await ensureInstanceOwner(db) : await findUserByEmail(db, email);
    return fn(db, user);
  });
}

/** The stable JSON shape of a webhook: never its URL or secret. */
function webhookJson(w: WebhookSummary) {
  return {
    id: w.id,
    projectId: w.projectId,
    urlHint: w.urlHint,
    format: w.format,
    signed: w.signed,
    kinds: w.kinds,
    createdAt: w.createdAt,
  };
}

async function add(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("webhook add", argv, {
    options: {
      project: { type: "string" },
      url: { type: "string" },
      format: { type: "string" },
      secret: { type: "string" },
      "secret-stdin": { type: "boolean" },
      kinds: { type: "string" },
      user: { type: "string" },
    },
    positionals: [],
  });
  if (help) return printLines(ADD_HELP.trimEnd());
  if (values.project === undefined) throw new UsageError("missing --project <id>", "webhook add");
  if (values.url === undefined) throw new UsageError("missing --url <url>", "webhook add");
  if (values.secret !== undefined && values["secret-stdin"]) {
    throw new UsageError("give --secret or --secret-stdin, not both", "webhook add");
  }
  await checkIdArgument("webhook add", "project", values.project);
  let secret = values.secret;
  if (values["secret-stdin"]) {
    secret = (await readValue()).replace(/\r?\n$/, "");
    if (secret === "") throw new UsageError("no secret on standard input", "webhook add");
  }
  const kinds = values.kinds
    ?.split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  const [{ addWebhook }, { instanceSecretKey }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/webhooks/store"),
    import("@/lib/secrets/instance-key"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  const webhook = await asUser(values.user, async (db, user) => {
    const projectId = await resolveIdPrefix(db, "project", { userId: user.id }, values.project!);
    return addWebhook(db, instanceSecretKey(), user.id, projectId, {
      url: values.url,
      ...(values.format === undefined ? {} : { format: values.format }),
      ...(secret === undefined ? {} : { secret }),
      ...(kinds === undefined ? {} : { kinds }),
    });
  });
  if (json) return printJson(webhookJson(webhook));
  printLines(
    `Added webhook ${webhook.id} (${webhook.format}${webhook.signed ? ", signed" : ""}) posting to ${webhook.urlHint}`,
    `Kinds: ${webhook.kinds.join(", ")}`,
  );
}

async function list(argv: string[]): Promise<void> {
  const { values, help, json } = parseCommand("webhook list", argv, {
    options: { project: { type: "string" }, user: { type: "string" } },
    positionals: [],
  });
  if (help) return printLines(LIST_HELP.trimEnd());
  if (values.project === undefined) throw new UsageError("missing --project <id>", "webhook list");
  await checkIdArgument("webhook list", "project", values.project);
  const [{ listWebhooks }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/webhooks/store"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  const hooks = await asUser(values.user, async (db, user) => {
    const projectId = await resolveIdPrefix(db, "project", { userId: user.id }, values.project!);
    return listWebhooks(db, user.id, projectId);
  });
  if (json) return printJson(hooks.map(webhookJson));
  if (hooks.length === 0) return printLines("No webhooks. Add one with: sam webhook add --project <id> --url <url>");
  printTable([
    ["ID", "POSTS TO", "FORMAT", "SIGNED", "KINDS"],
    ...hooks.map((w) => [w.id, w.urlHint, w.format, w.signed ? "yes" : "no", w.kinds.join(",")]),
  ]);
}

async function remove(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("webhook remove", argv, {
    options: { user: { type: "string" } },
    positionals: ["webhook-id"],
  });
  if (help) return printLines(REMOVE_HELP.trimEnd());
  await checkIdArgument("webhook remove", "webhook", args["webhook-id"]);
  const [{ removeWebhook }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/webhooks/store"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  const id = await asUser(values.user, async (db, user) => {
    const webhookId = await resolveIdPrefix(db, "webhook", { userId: user.id }, args["webhook-id"]);
    await removeWebhook(db, user.id, webhookId);
    return webhookId;
  });
  if (json) return printJson({ id, removed: true });
  printLines(`Removed webhook ${id}`);
}

function deliveryLine(d: WebhookDeliverySummary): string[] {
  const last = d.lastStatusCode !== null ? String(d.lastStatusCode) : (d.lastError ?? "");
  const when = (d.deliveredAt ?? d.nextAttemptAt ?? d.createdAt).toISOString().replace("T", " ").slice(0, 19);
  return [d.id, d.kind, d.status, String(d.attempts), last, when, d.title];
}

async function deliveries(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("webhook deliveries", argv, {
    options: { user: { type: "string" } },
    positionals: ["webhook-id"],
  });
  if (help) return printLines(DELIVERIES_HELP.trimEnd());
  await checkIdArgument("webhook deliveries", "webhook", args["webhook-id"]);
  const [{ listDeliveries }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/webhooks/store"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  const log = await asUser(values.user, async (db, user) => {
    const webhookId = await resolveIdPrefix(db, "webhook", { userId: user.id }, args["webhook-id"]);
    return listDeliveries(db, user.id, webhookId);
  });
  if (json) return printJson(log);
  if (log.length === 0) return printLines("No deliveries yet.");
  printTable([["ID", "KIND", "STATUS", "ATTEMPTS", "LAST", "AT (UTC)", "TITLE"], ...log.map(deliveryLine)]);
}

async function replay(argv: string[]): Promise<void> {
  const { values, args, help, json } = parseCommand("webhook replay", argv, {
    options: { user: { type: "string" } },
    positionals: ["delivery-id"],
  });
  if (help) return printLines(REPLAY_HELP.trimEnd());
  await checkIdArgument("webhook replay", "webhook delivery", args["delivery-id"]);
  const [{ replayDelivery }, { resolveIdPrefix }] = await Promise.all([
    import("@/lib/webhooks/store"),
    import("@/lib/ids/resolve-prefix"),
  ]);
  const delivery = await asUser(values.user, async (db, user) => {
    const deliveryId = await resolveIdPrefix(db, "webhook delivery", { userId: user.id }, args["delivery-id"]);
    return replayDelivery(db, user.id, deliveryId);
  });
  if (json) return printJson(delivery);
  printLines(`Queued delivery ${delivery.id}, replaying ${delivery.replayOfId}`);
}

export function run(argv: string[]): Promise<void> {
  return runGroup("webhook", argv, {
    add: { summary: "add a webhook to a project (Slack, Discord or signed JSON)", run: add },
    list: { summary: "list a project's webhooks (where they post, never their URLs)", run: list },
    remove: { summary: "remove a webhook", run: remove },
    deliveries: { summary: "a webhook's delivery log", run: deliveries },
    replay: { summary: "send a delivery's event again", run: replay },
  });
}
