"use client";

import { useState } from "react";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";
import type { CloudSettingsView } from "@/lib/nodes/cloud/settings";

type Scope = "project" | "instance";

interface Fields {
  token: string;
  tokenSecret: string;
  serverType: string;
  location: string;
  image: string;
  labels: string;
  capacity: string;
  maxVms: string;
  warmMinutes: string;
  warmPool: string;
  enabled: boolean;
}

const fieldsOf = (s: CloudSettingsView | null): Fields => ({
  token: "",
  tokenSecret: s?.tokenSecret ?? "HCLOUD_TOKEN",
  serverType: s?.serverType ?? "",
  location: s?.location ?? "",
  image: s?.image ?? "debian-12",
  labels: s?.labels.join(",") ?? "",
  capacity: String(s?.capacity ?? 4),
  maxVms: String(s?.maxVms ?? 3),
  warmMinutes: String(s?.warmMinutes ?? 30),
  warmPool: String(s?.warmPool ?? 0),
  enabled: s?.enabled ?? true,
});

/** A number as the API takes it, or the text as typed so the server can say what is wrong. */
function numberOf(text: string): number | string {
  const n = Number(text);
  return text.trim() !== "" && Number.isInteger(n) ? n : text;
}

const TEXT_FIELDS = [
  { name: "serverType", label: "Server type", placeholder: "cx22" },
  { name: "location", label: "Location", placeholder: "fsn1" },
  { name: "image", label: "Image", placeholder: "debian-12" },
  { name: "labels", label: "Labels (comma-separated)", placeholder: "eu,large" },
  { name: "capacity", label: "Tasks per VM", placeholder: "4" },
  { name: "maxVms", label: "Max VMs", placeholder: "3" },
  { name: "warmMinutes", label: "Warm minutes (idle VM kept)", placeholder: "30" },
  { name: "warmPool", label: "Warm pool (idle VMs kept ready)", placeholder: "0" },
] as const;

function CloudStatus({ settings }: { settings: CloudSettingsView }) {
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm" data-testid="cloud-status">
      <dt className="text-zinc-600 dark:text-zinc-400">VMs now</dt>
      <dd>{settings.vms}</dd>
      <dt className="text-zinc-600 dark:text-zinc-400">Token</dt>
      <dd>{settings.tokenSecret ? `project secret ${settings.tokenSecret}` : settings.tokenSet ? "set" : "not set"}</dd>
      {settings.failures > 0 ? (
        <>
          <dt className="text-zinc-600 dark:text-zinc-400">Failures in a row</dt>
          <dd>
            {settings.failures}
            {settings.backoffUntil ? `, next try after ${new Date(settings.backoffUntil).toLocaleTimeString()}` : ""}
          </dd>
        </>
      ) : null}
      {settings.lastError ? (
        <>
          <dt className="text-zinc-600 dark:text-zinc-400">Last error</dt>
          <dd role="status" className="text-red-700 dark:text-red-400">
            {settings.lastErrorAt ? `${new Date(settings.lastErrorAt).toLocaleString()}: ` : ""}
            {settings.lastError}
          </dd>
        </>
      ) : null}
    </dl>
  );
}

/**
 * Where SAM creates VMs when no node has room (Hetzner Cloud), for a project or the instance. The
 * token is write-only: a project names the secret holding it, the instance admin types it once.
 */
export function CloudPanel({
  scope,
  endpoint,
  initial,
  canEdit,
}: {
  scope: Scope;
  endpoint: string;
  initial: CloudSettingsView | null;
  canEdit: boolean;
}) {
  const [settings, setSettings] = useState(initial);
  const [fields, setFields] = useState(() => fieldsOf(initial));
  const [pending, setPending] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: string } | undefined>();
  const update = (change: Partial<Fields>) => setFields((f) => ({ ...f, ...change }));

  async function send(method: "PUT" | "DELETE", body?: unknown) {
    setPending(true);
    setResult(undefined);
    try {
      const res = await fetch(endpoint, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status === 204) {
        setSettings(null);
        setFields(fieldsOf(null));
        setResult({ ok: true, message: "Cloud settings removed." });
        return;
      }
      const answer = (await res.json()) as { settings?: CloudSettingsView; error?: { message: string } };
      if (!res.ok || !answer.settings) {
        setResult({ ok: false, message: answer.error?.message ?? `Saving failed (HTTP ${res.status})` });
        return;
      }
      setSettings(answer.settings);
      setFields(fieldsOf(answer.settings));
      setResult({ ok: true, message: "Cloud settings saved." });
    } catch {
      setResult({ ok: false, message: "The server did not answer" });
    } finally {
      setPending(false);
    }
  }

  function save() {
    void send("PUT", {
      ...(scope === "project" ? { tokenSecret: fields.tokenSecret } : fields.token ? { token: fields.token } : {}),
      serverType: fields.serverType,
      location: fields.location,
      image: fields.image,
      labels: fields.labels
        .split(",")
        .map((l) => l.trim())
        .filter((l) => l !== ""),
      capacity: numberOf(fields.capacity),
      maxVms: numberOf(fields.maxVms),
      warmMinutes: numberOf(fields.warmMinutes),
      warmPool: numberOf(fields.warmPool),
      enabled: fields.enabled,
    });
  }

  return (
    <div className="space-y-4">
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        When no node has room for queued work, SAM creates a Hetzner Cloud VM that installs the daemon and joins by
        itself; an idle VM stays warm for reuse, then is deleted.
        {scope === "instance" ? " These settings serve every project without settings of its own." : ""}
      </p>
      {settings ? <CloudStatus settings={settings} /> : <p className="text-sm">No cloud settings.</p>}
      {canEdit ? (
        <form
          aria-label="Cloud settings"
          className="grid gap-3 sm:grid-cols-2"
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
        >
          {scope === "project" ? (
            <label className="text-sm">
              Token secret (holds the Hetzner API token)
              <input
                className={inputClass}
                value={fields.tokenSecret}
                onChange={(e) => update({ tokenSecret: e.target.value })}
              />
            </label>
          ) : (
            <label className="text-sm">
              Hetzner API token {settings?.tokenSet ? "(set; type to replace)" : ""}
              <input
                className={inputClass}
                type="password"
                autoComplete="off"
                value={fields.token}
                onChange={(e) => update({ token: e.target.value })}
              />
            </label>
          )}
          {TEXT_FIELDS.map((f) => (
            <label key={f.name} className="text-sm">
              {f.label}
              <input
                className={inputClass}
                placeholder={f.placeholder}
                value={fields[f.name]}
                onChange={(e) => update({ [f.name]: e.target.value })}
              />
            </label>
          ))}
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={fields.enabled} onChange={(e) => update({ enabled: e.target.checked })} />
            Enabled (off: no new VMs, idle ones are deleted)
          </label>
          <div className="flex items-center gap-3 sm:col-span-2">
            <button type="submit" disabled={pending} className={primaryButtonClass}>
              Save cloud settings
            </button>
            {settings ? (
              <button
                type="button"
                disabled={pending}
                onClick={() => void send("DELETE")}
                className="text-sm text-red-700 hover:underline dark:text-red-400"
              >
                Remove
              </button>
            ) : null}
            {result ? (
              <span role={result.ok ? "status" : "alert"} className={result.ok ? "text-sm" : "text-sm text-red-700"}>
                {result.message}
              </span>
            ) : null}
          </div>
        </form>
      ) : null}
    </div>
  );
}
