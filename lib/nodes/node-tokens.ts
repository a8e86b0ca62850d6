import { and, eq, gt, isNull, ne, or } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes, tokens } from "@/db/schema";
import { generateToken, hashToken } from "../auth/tokens";
import { SamError } from "../errors";
import { newId } from "../ids";
import { decryptSecret, encryptSecret } from "../secrets/crypto";
import { instanceSecretKey } from "../secrets/instance-key";

const aadOf = (nodeId: string) => `sam-node-token:${nodeId}`;

/**
 * A new node token: its hash checks the daemon's calls, its ciphertext lets the web app call the
 * daemon. Returns the token and the ciphertext to store on the node row.
 */
export async function mintNodeToken(db: Db, nodeId: string): Promise<{ token: string; ciphertext: string }> {
  const token = generateToken();
  await db.insert(tokens).values({ id: newId(), kind: "node", tokenHash: hashToken(token), nodeId });
  return { token, ciphertext: encryptSecret(instanceSecretKey(), token, aadOf(nodeId)) };
}

export function nodeTokenOf(node: { id: string; tokenCiphertext: string | null }): string {
  if (!node.tokenCiphertext) throw new SamError("internal", `Node ${node.id} has no token`);
  return decryptSecret(instanceSecretKey(), node.tokenCiphertext, aadOf(node.id));
}

/** The node a daemon's bearer token belongs to; anything else is refused. */
export async function authenticateNodeToken(db: Db, authorization: string | null) {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!token) throw new SamError("unauthenticated", "A node token is required");
  const row = await db
    .select({ node: nodes })
    .from(tokens)
    .innerJoin(nodes, eq(nodes.id, tokens.nodeId))
    .where(
      and(
        eq(tokens.tokenHash, hashToken(token)),
        eq(tokens.kind, "node"),
        isNull(tokens.revokedAt),
        or(isNull(tokens.expiresAt), gt(tokens.expiresAt, new Date())),
        // A removed node's credential is revoked with its removal; this holds even for one minted since.
        ne(nodes.status, "destroyed"),
      ),
    )
    .limit(1);
  const node = row[0]?.node;
  if (!node) throw new SamError("unauthenticated", "The node token is invalid or revoked");
  return node;
}
