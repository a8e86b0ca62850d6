import type { CloudHealth } from "@/lib/nodes/cloud-health";

/** Each cloud setting's VM creation: fine, or its failures in a row, back-off and last error. */
export function CloudFailures({ settings, now }: { settings: CloudHealth[]; now: Date }) {
  if (settings.length === 0) {
    return <p className="text-sm text-zinc-600 dark:text-zinc-400">No cloud provider is set up.</p>;
  }
  return (
    <ul className="space-y-2 text-sm" aria-label="Cloud VM creation">
      {settings.map((s) => {
        const backingOff = s.backoffUntil !== null && new Date(s.backoffUntil) > now;
        return (
          <li
            key={s.id}
            data-testid="cloud-setting"
            className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800"
          >
            <div className="font-medium">
              {s.provider} · {s.project ? `project ${s.project.name}` : "instance"} · {s.serverType} in {s.location}
              {s.enabled ? "" : " (off)"}
            </div>
            {s.failures === 0 && !s.lastError ? (
              <div className="text-zinc-600 dark:text-zinc-400">No creation failures.</div>
            ) : (
              <div className="text-red-700 dark:text-red-400" data-testid="cloud-failure">
                {s.failures} failure{s.failures === 1 ? "" : "s"} in a row
                {backingOff ? `; backing off until ${s.backoffUntil}` : ""}
                {s.lastError ? `; last: ${s.lastError}` : ""}
                {s.lastErrorAt ? ` (${s.lastErrorAt})` : ""}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}
