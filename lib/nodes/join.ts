import { type JoinRequest, type JoinResponse, nodeLabelsSchema } from "@sam/agent-daemon/contract";
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { nodeJoinTokens, nodes, tokens } from "@/db/schema";
import { generateToken, hashToken } from "../auth/tokens";
import { SamError } from "../errors";
import { newId } from "../ids";
import { parseInput } from "../validation";

export const JOIN_TOKEN_TTL_MINUTES = 60;
const MAX_TTL_MINUTES = 7 * 24 * 60;
const ttlMessage = `must be a whole number of minutes (1-${MAX_TTL_MINUTES})`;

export const mintJoinTokenSchema = z
  .object({
    labels: nodeLabelsSchema.default([]),
    ttlMinutes: z.coerce
      .number({ message: ttlMessage })
      .int({ message: ttlMessage })
      .min(1, { message: ttlMessage })
      .max(MAX_TTL_MINUTES, { message: ttlMessage })
      .default(JOIN_TOKEN_TTL_MINUTES),
    createdBy: z.string().optional(),
    // A cloud provider's token for a VM it creates: the node row it made (status provisioning) is
    // the one the VM becomes when it joins.
    cloudSettingsId: z.string().optional(),
    nodeId: z.string().optional(),
  })
  .strict();

/** A one-use join token; only its hash is stored. Returned once, here. */
export async function mintJoinToken(
  db: Db,
  input: z.input<typeof mintJoinTokenSchema>,
): Promise<{ token: string; expiresAt: Date; labels: string[] }> {
  const { labels, ttlMinutes, createdBy, cloudSettingsId, nodeId } = parseInput(mintJoinTokenSchema, input);
  const token = `samj_${generateToken()}`;
  const expiresAt = new Date(Date.now() + ttlMinutes * 60_000);
  const unique = [...new Set(labels)].sort();
  await db.insert(nodeJoinTokens).values({
    id: newId(),
    tokenHash: hashToken(token),
    labels: JSON.stringify(unique),
    createdBy,
    cloudSettingsId,
    nodeId,
    expiresAt,
  });
  return { token, expiresAt, labels: unique };
}

/** The command a machine runs to join with `token`. */
export function joinCommandFor(webUrl: string, token: string, labels: readonly string[]): string {
  const base = `npx sam daemon --join ${webUrl.replace(/\/+$/, "")} --token ${token}`;
  return labels.length > 0 ? `${base} --labels ${labels.join(",")}` : base;
}

function labelsOf(json: string): string[] {
  try {
    return nodeLabelsSchema.parse(JSON.parse(json));
  } catch {
    return [];
  }
}

/** Why a token that could not be spent is refused: it never existed, was used, or expired. */
async function refusal(db: Db, tokenHash: string): Promise<SamError> {
  const row = await db.query.nodeJoinTokens.findFirst({ where: eq(nodeJoinTokens.tokenHash, tokenHash) });
  if (row?.usedAt) return new SamError("unauthenticated", "The join token was already used; make a new one");
  if (row) return new SamError("unauthenticated", "The join token has expired; make a new one");
  return new SamError("unauthenticated", "The join token is not valid");
}

interface SpentToken {
  id: string;
  labels: string;
  node_id: string | null;
}

/**
 * Spends a join token for a node and its credential. The token is spent by one guarded UPDATE
 * (unused and unexpired), so two machines racing with one token get one node. A token minted for a
 * node row that already exists (a cloud VM) makes that node ready; otherwise a `joined` node is
 * created. `webUrl` is the web app's address as the node reached it: its agents' MCP endpoint.
 */
export async function joinNode(db: Db, req: JoinRequest, webUrl: string, heartbeatMs: number): Promise<JoinResponse> {
  const tokenHash = hashToken(req.token);
  const now = Date.now();
  // Invariant: a join token is spent once, and never after it expired.
  const spent = await db.all<SpentToken>(sql`
    UPDATE node_join_tokens SET used_at = ${now}
    WHERE token_hash = ${tokenHash} AND used_at IS NULL AND expires_at > ${now}
    RETURNING id, labels, node_id`);
  const token = spent[0];
  if (!token) throw await refusal(db, tokenHash);

  const labels = [...new Set([...labelsOf(token.labels), ...req.labels])].sort();
  const nodeId = token.node_id ?? newId();
  const name = req.name ?? `joined-${nodeId.slice(0, 8)}`;
  const credential = generateToken();
  const fields = {
    name,
    status: "ready" as const,
    capacity: req.capacity,
    labels: JSON.stringify(labels),
    version: req.version,
    webUrl,
    lastHeartbeatAt: new Date(now),
    statusReason: null,
  };
  if (!token.node_id) {
    await db.batch([
      db.insert(nodes).values({ id: nodeId, provider: "joined", ...fields }),
      db.insert(tokens).values({ id: newId(), kind: "node", tokenHash: hashToken(credential), nodeId }),
      db.update(nodeJoinTokens).set({ nodeId }).where(eq(nodeJoinTokens.id, token.id)),
    ]);
    return { nodeId, credential, name, labels, heartbeatMs };
  }
  // Invariant: a VM joins only the node row still waiting for it; one given up meanwhile (lost,
  // deleted) stays gone and gets no credential. The credential is written before the row changes.
  const [credentialRow, joined] = await db.batch([
    db.run(sql`INSERT INTO tokens (id, kind, token_hash, node_id)
      SELECT ${newId()}, 'node', ${hashToken(credential)}, ${nodeId}
      WHERE EXISTS (SELECT 1 FROM nodes WHERE id = ${nodeId} AND status = 'provisioning')`),
    db
      .update(nodes)
      .set(fields)
      .where(and(eq(nodes.id, nodeId), eq(nodes.status, "provisioning"))),
  ]);
  if (credentialRow.rowsAffected === 0 || joined.rowsAffected === 0) {
    throw new SamError("unauthenticated", "The node this join token was made for is gone; the VM is not needed");
  }
  return { nodeId, credential, name, labels, heartbeatMs };
}
