import Link from "next/link";
import { requireUser } from "@/app/current-user";
import { NewTokenForm } from "@/components/account/NewTokenForm";
import { TokenList } from "@/components/account/TokenList";
import { getDb } from "@/db/client";
import { listPersonalTokens } from "@/lib/auth/personal-tokens";
import { mintTokenAction, revokeTokenAction } from "./actions";

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : "never");

/** Who the user is here, and the personal API tokens they have minted. */
export default async function AccountPage() {
  const user = await requireUser();
  const tokens = await listPersonalTokens(getDb(), user.id);
  return (
    <div className="max-w-3xl space-y-8">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Account</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          {[
            user.name,
            user.email,
            user.githubLogin ? `@${user.githubLogin}` : null,
            user.isInstanceOwner ? "admin" : null,
          ]
            .filter(Boolean)
            .join(" · ")}
        </p>
      </div>
      <section className="space-y-4 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
        <div>
          <h2 className="font-medium">Personal tokens</h2>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            Scripts send one as <code>Authorization: Bearer samp_…</code> and act as you on SAM's API.
          </p>
        </div>
        <TokenList
          tokens={tokens.map((t) => ({
            id: t.id,
            name: t.name,
            status: t.status,
            created: day(t.createdAt),
            expires: day(t.expiresAt),
            lastUsed: day(t.lastUsedAt),
            revokeAction: revokeTokenAction.bind(null, t.id),
          }))}
        />
        <NewTokenForm mint={mintTokenAction} />
      </section>
      <section className="space-y-1 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
        <h2 className="font-medium">Notifications</h2>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          <Link href="/account/notifications" className="underline">
            Notification preferences
          </Link>
          : which kinds of notification you get from each project, and browser notifications.
        </p>
      </section>
      {user.isInstanceOwner ? (
        <section className="space-y-1 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
          <h2 className="font-medium">Instance</h2>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            <Link href="/admin/prices" className="underline">
              Model prices
            </Link>
            : what a million tokens of each model costs, which turns the tasks' token usage into cost.
          </p>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            <Link href="/admin/nodes" className="underline">
              Nodes
            </Link>
            : the machines agents run on; drain or remove them, and see cloud VMs' costs and creation failures.
          </p>
        </section>
      ) : null}
    </div>
  );
}
