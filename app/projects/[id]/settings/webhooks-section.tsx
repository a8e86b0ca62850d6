import { WebhooksPanel } from "@/components/projects/WebhooksPanel";
import { getDb } from "@/db/client";
import { NOTIFICATION_KINDS } from "@/db/schema";
import { DEFAULT_WEBHOOK_KINDS, listDeliveries, listWebhooks } from "@/lib/webhooks/store";
import { addWebhookAction, removeWebhookAction, replayDeliveryAction } from "./webhook-actions";

/** How many of each webhook's deliveries the settings page shows. */
const RECENT_DELIVERIES = 5;

const timeOf = (d: Date) => `${d.toISOString().replace("T", " ").slice(0, 19)} UTC`;

/** The Webhooks section of a project's settings: owners see and manage them, others are told who does. */
export async function WebhooksSection({
  projectId,
  userId,
  canEdit,
}: {
  projectId: string;
  userId: string;
  canEdit: boolean;
}) {
  const db = getDb();
  const hooks = canEdit ? await listWebhooks(db, userId, projectId) : [];
  const logs = await Promise.all(hooks.map((w) => listDeliveries(db, userId, w.id, { limit: RECENT_DELIVERIES })));
  return (
    <WebhooksPanel
      canEdit={canEdit}
      kinds={[...NOTIFICATION_KINDS]}
      defaultKinds={DEFAULT_WEBHOOK_KINDS}
      add={addWebhookAction.bind(null, projectId)}
      webhooks={hooks.map((w, i) => ({
        id: w.id,
        urlHint: w.urlHint,
        format: w.format,
        signed: w.signed,
        kinds: w.kinds,
        removeAction: removeWebhookAction.bind(null, projectId, w.id),
        deliveries: (logs[i] ?? []).map((d) => ({
          id: d.id,
          kind: d.kind,
          title: d.title,
          status: d.status,
          attempts: d.attempts,
          last: d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : (d.lastError ?? ""),
          at: timeOf(d.deliveredAt ?? d.nextAttemptAt ?? d.createdAt),
          replayAction: replayDeliveryAction.bind(null, projectId, d.id),
        })),
      }))}
    />
  );
}
