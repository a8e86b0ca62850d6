import { requireUser } from "@/app/current-user";
import { ModelPricesForm } from "@/components/admin/ModelPricesForm";
import { getDb } from "@/db/client";
import { listModelPrices } from "@/lib/usage/prices";

/** The instance's price table, which turns token usage into cost; the admin edits it. */
export default async function ModelPricesPage() {
  const user = await requireUser();
  const prices = await listModelPrices(getDb());
  return (
    <div className="max-w-4xl space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Model prices</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          US dollars per million tokens, per model as projects name it (<code>provider:model</code>, e.g.{" "}
          <code>openai:gpt-4o</code>). A turn the agent priced itself costs what it said; any other costs its tokens at
          these prices, and usage of a model not listed shows as “no price”. A change reprices past usage too.
        </p>
      </div>
      {user.isInstanceOwner ? (
        <ModelPricesForm initial={prices} />
      ) : (
        <>
          <p role="note" className="text-sm text-zinc-600 dark:text-zinc-400">
            Only the instance admin can change prices.
          </p>
          <ul data-testid="model-price-list" className="space-y-1 font-mono text-sm">
            {prices.map((p) => (
              <li key={p.model}>
                {p.model}: ${p.inputPerMillion} in, ${p.outputPerMillion} out
                {p.cachedInputPerMillion === null ? "" : `, $${p.cachedInputPerMillion} cached`}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
