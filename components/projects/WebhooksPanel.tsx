"use client";

import { ActionButton } from "@/components/forms/ActionButton";
import type { FormAction } from "@/components/forms/action-state";
import { FieldError, FormError } from "@/components/forms/FieldError";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";
import { useActionForm } from "@/components/forms/use-action-form";

export interface WebhookDeliveryRow {
  id: string;
  kind: string;
  title: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  /** The receiver's last status code, or what went wrong without one. */
  last: string;
  at: string;
  replayAction: FormAction;
}

export interface WebhookRow {
  id: string;
  urlHint: string;
  format: string;
  signed: boolean;
  kinds: string[];
  removeAction: FormAction;
  deliveries: WebhookDeliveryRow[];
}

const STATUS_CLASS: Record<WebhookDeliveryRow["status"], string> = {
  delivered: "text-emerald-700 dark:text-emerald-400",
  pending: "text-amber-700 dark:text-amber-400",
  failed: "text-red-700 dark:text-red-400",
};

function AddWebhookForm({ add, kinds, defaultKinds }: { add: FormAction; kinds: string[]; defaultKinds: string[] }) {
  const { state, pending, form, field, error } = useActionForm(add, {
    idPrefix: "webhook",
    initial: { format: "json" },
    clearOnSuccess: true,
  });
  return (
    <form {...form} className="space-y-3" aria-label="Add webhook">
      <div className="grid gap-3 sm:grid-cols-[1fr_9rem]">
        <div>
          <input
            {...field("url")}
            type="password"
            autoComplete="off"
            placeholder="https://hooks.slack.com/services/…"
            aria-label="Webhook URL"
            className={inputClass}
          />
          <FieldError {...error("url")} />
        </div>
        <div>
          <select {...field("format")} aria-label="Webhook format" className={inputClass}>
            <option value="json">JSON (signed)</option>
            <option value="slack">Slack</option>
            <option value="discord">Discord</option>
          </select>
          <FieldError {...error("format")} />
        </div>
      </div>
      <div>
        <input
          {...field("secret")}
          type="password"
          autoComplete="off"
          placeholder="signing secret (JSON only, optional, 16+ characters)"
          aria-label="Signing secret"
          className={inputClass}
        />
        <FieldError {...error("secret")} />
      </div>
      <fieldset className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
        <legend className="mb-1 text-zinc-600 dark:text-zinc-400">Kinds</legend>
        {kinds.map((kind) => (
          <label key={kind} className="inline-flex items-center gap-1.5">
            <input type="checkbox" name="kinds" value={kind} defaultChecked={defaultKinds.includes(kind)} />
            {kind}
          </label>
        ))}
      </fieldset>
      <FieldError {...error("kinds")} />
      <button type="submit" disabled={pending} className={primaryButtonClass}>
        Add webhook
      </button>
      <FormError state={state} />
    </form>
  );
}

function RecentDeliveries({ deliveries }: { deliveries: WebhookDeliveryRow[] }) {
  if (deliveries.length === 0) return <p className="text-xs text-zinc-600 dark:text-zinc-400">No deliveries yet.</p>;
  return (
    <ul className="space-y-1" aria-label="Recent deliveries">
      {deliveries.map((d) => (
        <li key={d.id} className="flex flex-wrap items-center gap-2 text-xs" data-testid="webhook-delivery">
          <span className={`font-medium ${STATUS_CLASS[d.status]}`}>{d.status}</span>
          <span className="text-zinc-600 dark:text-zinc-400">{d.kind}</span>
          <span className="min-w-0 flex-1 truncate">{d.title}</span>
          <span className="text-zinc-600 dark:text-zinc-400">
            {d.attempts} {d.attempts === 1 ? "attempt" : "attempts"}
            {d.last ? ` · ${d.last}` : ""} · {d.at}
          </span>
          <ActionButton action={d.replayAction} label="Replay" />
        </li>
      ))}
    </ul>
  );
}

/** A project's webhooks: where each posts (never its URL), its deliveries, and a form to add one. */
export function WebhooksPanel({
  webhooks,
  add,
  canEdit,
  kinds,
  defaultKinds,
}: {
  webhooks: WebhookRow[];
  add: FormAction;
  canEdit: boolean;
  kinds: string[];
  defaultKinds: string[];
}) {
  if (!canEdit) return <p className="text-sm text-zinc-600 dark:text-zinc-400">Only project owners manage webhooks.</p>;
  return (
    <div className="space-y-4">
      {webhooks.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          No webhooks. SAM can post this project&apos;s notifications to Slack, Discord or any URL (JSON, signed).
        </p>
      ) : (
        <ul className="divide-y divide-zinc-200 rounded-md border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
          {webhooks.map((w) => (
            <li key={w.id} className="space-y-2 px-3 py-2 text-sm" data-testid="webhook">
              <div className="flex flex-wrap items-center gap-3">
                <span className="min-w-0 break-all font-mono" data-testid="webhook-hint">
                  {w.urlHint}
                </span>
                <span className="text-xs text-zinc-600 dark:text-zinc-400">
                  {w.format}
                  {w.signed ? ", signed" : ""}
                </span>
                <span className="text-xs text-zinc-600 dark:text-zinc-400">{w.kinds.join(", ")}</span>
                <span className="ml-auto">
                  <ActionButton action={w.removeAction} label="Remove" danger />
                </span>
              </div>
              <RecentDeliveries deliveries={w.deliveries} />
            </li>
          ))}
        </ul>
      )}
      <AddWebhookForm add={add} kinds={kinds} defaultKinds={defaultKinds} />
    </div>
  );
}
