import { and, eq, gte, lt } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { nodes, projectMembers, projects, pullRequests, tasks, tokens, webhookDeliveries, webhooks } from "@/db/schema";
import { SamError } from "../errors";
import { isAdmin, type Requester } from "../users";
import { parseInput } from "../validation";

/** The UI shows an id's first 8 characters; that many are accepted wherever an id is asked for. */
export const MIN_ID_PREFIX = 8;
/** An ambiguous prefix lists at most this many of its matches. */
const MATCHES_LISTED = 10;

export type IdKind = "task" | "project" | "pull request" | "personal token" | "webhook" | "webhook delivery" | "node";

interface Match {
  id: string;
  /** The title or name that tells the matches apart. */
  label: string;
}

const prefixSchema = (kind: IdKind) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .min(MIN_ID_PREFIX, {
      message: `give the ${kind} id or a unique prefix of at least ${MIN_ID_PREFIX} characters of it`,
    })
    .max(100, { message: `is longer than any ${kind} id` })
    // Printable ASCII only: ids are UUIDs, and it keeps the range bound below one character wide.
    .regex(/^[\x21-\x7e]+$/, { message: `is not a ${kind} id (ids are letters, digits and dashes)` });

/**
 * An id or a prefix of one as typed (trimmed, lowercased like the UUIDs SAM makes); too short or
 * malformed is `invalid_input` naming the minimum, so a command line can refuse it before any query.
 */
export function parseIdPrefix(kind: IdKind, input: string): string {
  try {
    return parseInput(prefixSchema(kind), input);
  } catch (err) {
    const message = SamError.is(err) ? err.details?.fields?.[0]?.message : undefined;
    if (!message) throw err;
    throw new SamError("invalid_input", `${JSON.stringify(input)}: ${message}`, { fields: [{ field: "id", message }] });
  }
}

/**
 * The ids from `prefix` (inclusive) to the prefix with its last character raised by one (exclusive)
 * are exactly the ids that start with it: a plain comparison, so `%` and `_` match only themselves
 * (LIKE would read them as wildcards, and ignore case), and the primary key's index serves it.
 */
function rangeOf(prefix: string): { from: string; to: string } {
  const last = prefix.charCodeAt(prefix.length - 1);
  return { from: prefix, to: prefix.slice(0, -1) + String.fromCharCode(last + 1) };
}

function visibleProjects(
  requester: Requester,
  projectId: typeof projects.id | typeof tasks.projectId | typeof pullRequests.projectId | typeof webhooks.projectId,
) {
  return requester === "operator"
    ? undefined
    : and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, requester.userId));
}

async function matchesOf(db: Db, kind: IdKind, requester: Requester, prefix: string): Promise<Match[]> {
  const { from, to } = rangeOf(prefix);
  const limit = MATCHES_LISTED + 1;
  switch (kind) {
    case "task": {
      const query = db.select({ id: tasks.id, label: tasks.title }).from(tasks);
      const inRange = and(gte(tasks.id, from), lt(tasks.id, to));
      const members = visibleProjects(requester, tasks.projectId);
      return (members ? query.innerJoin(projectMembers, members) : query).where(inRange).orderBy(tasks.id).limit(limit);
    }
    case "project": {
      const query = db.select({ id: projects.id, label: projects.name }).from(projects);
      const inRange = and(gte(projects.id, from), lt(projects.id, to));
      const members = visibleProjects(requester, projects.id);
      return (members ? query.innerJoin(projectMembers, members) : query)
        .where(inRange)
        .orderBy(projects.id)
        .limit(limit);
    }
    case "pull request": {
      const query = db
        .select({ id: pullRequests.id, number: pullRequests.number, title: pullRequests.title })
        .from(pullRequests);
      const inRange = and(gte(pullRequests.id, from), lt(pullRequests.id, to));
      const members = visibleProjects(requester, pullRequests.projectId);
      const rows = await (members ? query.innerJoin(projectMembers, members) : query)
        .where(inRange)
        .orderBy(pullRequests.id)
        .limit(limit);
      return rows.map((r) => ({ id: r.id, label: `#${r.number} ${r.title}` }));
    }
    case "webhook": {
      const query = db.select({ id: webhooks.id, label: webhooks.urlHint }).from(webhooks);
      const inRange = and(gte(webhooks.id, from), lt(webhooks.id, to));
      const members = visibleProjects(requester, webhooks.projectId);
      return (members ? query.innerJoin(projectMembers, members) : query)
        .where(inRange)
        .orderBy(webhooks.id)
        .limit(limit);
    }
    case "webhook delivery": {
      const query = db
        .select({ id: webhookDeliveries.id, label: webhooks.urlHint })
        .from(webhookDeliveries)
        .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId));
      const inRange = and(gte(webhookDeliveries.id, from), lt(webhookDeliveries.id, to));
      const members = visibleProjects(requester, webhooks.projectId);
      return (members ? query.innerJoin(projectMembers, members) : query)
        .where(inRange)
        .orderBy(webhookDeliveries.id)
        .limit(limit);
    }
    case "node": {
      // Nodes belong to the instance: only its admin (or the operator) manages them.
      if (!(await isAdmin(db, requester))) return [];
      return db
        .select({ id: nodes.id, label: nodes.name })
        .from(nodes)
        .where(and(gte(nodes.id, from), lt(nodes.id, to)))
        .orderBy(nodes.id)
        .limit(limit);
    }
    case "personal token": {
      const rows = await db
        .select({ id: tokens.id, label: tokens.name })
        .from(tokens)
        .where(
          and(
            eq(tokens.kind, "personal"),
            gte(tokens.id, from),
            lt(tokens.id, to),
            requester === "operator" ? undefined : eq(tokens.userId, requester.userId),
          ),
        )
        .orderBy(tokens.id)
        .limit(limit);
      return rows.map((r) => ({ id: r.id, label: r.label ?? "" }));
    }
  }
}

/**
 * The full id of the one `kind` row whose id is `input` or starts with it (at least 8 characters),
 * among the rows `requester` may see: to anyone else the others do not exist. No match is
 * `not_found`; several are `invalid_input` listing them (id and title or name) in the message and
 * in `details.matches`.
 */
export async function resolveIdPrefix(db: Db, kind: IdKind, requester: Requester, input: string): Promise<string> {
  const prefix = parseIdPrefix(kind, input);
  const matches = await matchesOf(db, kind, requester, prefix);
  const exact = matches.find((m) => m.id === prefix);
  if (exact) return exact.id;
  const [only, ...others] = matches;
  if (!only) throw new SamError("not_found", `No ${kind} ${input.trim()}`);
  if (others.length === 0) return only.id;
  const listed = matches.slice(0, MATCHES_LISTED);
  const more = matches.length > MATCHES_LISTED ? ", and more" : "";
  throw new SamError(
    "invalid_input",
    `${input.trim()} matches several ${kind}s: ${listed.map((m) => `${m.id} (${m.label})`).join(", ")}${more}; ` +
      "give more of the id",
    { matches: listed },
  );
}
