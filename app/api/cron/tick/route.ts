import { timingSafeEqual } from "node:crypto";
import { handle } from "@/app/api/handle";
import { getDb } from "@/db/client";
import { loadConfig } from "@/lib/config";
import { SamError } from "@/lib/errors";
import { tick } from "@/lib/scheduler/tick";
import { instanceSecretKey } from "@/lib/secrets/instance-key";
import { webhookPass } from "@/lib/webhooks/deliveries";

export const dynamic = "force-dynamic";

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * One scheduling pass and one webhook pass, for hosts without long-lived processes (a cron calls it
 * with CRON_SECRET).
 */
export async function POST(req: Request) {
  return handle(async () => {
    const config = loadConfig();
    if (!config.cronSecret) throw new SamError("not_found", "The cron route is off; set CRON_SECRET to use it");
    const given = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
    if (!sameSecret(given, config.cronSecret)) throw new SamError("unauthenticated", "A valid CRON_SECRET is required");
    const webUrl = config.internalUrl ?? config.publicUrl;
    const result = await tick(getDb(), config, webUrl);
    await Promise.all(result.starts);
    const webhookAttempts = await webhookPass(getDb(), instanceSecretKey(), config.publicUrl);
    return Response.json({ claimed: result.claimed, lostNodes: result.lostNodes, webhookAttempts });
  });
}

// Vercel Cron calls its paths with GET (and the CRON_SECRET as bearer token).
export const GET = POST;
