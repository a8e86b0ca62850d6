import { ActionButton } from "@/components/forms/ActionButton";
import type { FormAction } from "@/components/forms/action-state";

export interface TokenRow {
  id: string;
  name: string;
  status: "active" | "expired" | "revoked";
  created: string;
  expires: string;
  lastUsed: string;
  revokeAction: FormAction;
}

/** The user's personal tokens: what each is for, whether it still works, and a way to revoke it. */
export function TokenList({ tokens }: { tokens: TokenRow[] }) {
  if (tokens.length === 0) return <p className="text-sm text-zinc-600 dark:text-zinc-400">No personal tokens.</p>;
  return (
    <table className="w-full text-left text-sm" aria-label="Personal tokens">
      <thead className="text-xs text-zinc-600 dark:text-zinc-400">
        <tr>
          <th className="py-1 font-normal">Name</th>
          <th className="py-1 font-normal">Status</th>
          <th className="py-1 font-normal">Created</th>
          <th className="py-1 font-normal">Expires</th>
          <th className="py-1 font-normal">Last used</th>
          <th />
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
        {tokens.map((t) => (
          <tr key={t.id} data-testid="token-row">
            <td className="py-2">{t.name}</td>
            <td className={t.status === "active" ? "py-2" : "py-2 text-zinc-600 dark:text-zinc-400"}>{t.status}</td>
            <td className="py-2">{t.created}</td>
            <td className="py-2">{t.expires}</td>
            <td className="py-2">{t.lastUsed}</td>
            <td className="py-2 text-right">
              {t.status === "active" ? <ActionButton action={t.revokeAction} label="Revoke" danger /> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
