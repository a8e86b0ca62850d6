import type { SandboxWarning } from "@/lib/nodes/sandbox-warnings";

/** Says, in red on every page, that agents on this instance run unconfined or cannot run at all. */
export function SandboxBanner({ warnings }: { warnings: SandboxWarning[] }) {
  if (warnings.length === 0) return null;
  return (
    <div role="alert" data-testid="sandbox-banner" className="bg-red-700 px-4 py-2 text-sm text-white">
      <ul className="mx-auto max-w-7xl space-y-1">
        {warnings.map((warning) => (
          <li key={`${warning.node}-${warning.state}`}>
            {warning.state === "off" ? (
              <>
                <strong>Sandbox off{warning.node ? ` on node ${warning.node}` : ""}:</strong> agents run unconfined
                (SAM_SANDBOX=off) and can read this instance&apos;s keys, database and every workspace.
              </>
            ) : (
              <>
                <strong>Sandbox unavailable on node {warning.node}:</strong> it refuses agent sessions. {warning.error}
              </>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
