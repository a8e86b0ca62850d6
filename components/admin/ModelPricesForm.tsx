"use client";

import { useState } from "react";
import { inputClass, primaryButtonClass } from "@/components/forms/styles";
import type { ModelPrice } from "@/lib/usage/prices";

interface Row {
  key: number;
  model: string;
  inputPerMillion: string;
  outputPerMillion: string;
  cachedInputPerMillion: string;
}

const COLUMNS = [
  { name: "inputPerMillion", label: "Input $/M" },
  { name: "outputPerMillion", label: "Output $/M" },
  { name: "cachedInputPerMillion", label: "Cached input $/M" },
] as const;

let nextKey = 0;
const rowOf = (p?: ModelPrice): Row => ({
  key: nextKey++,
  model: p?.model ?? "",
  inputPerMillion: p ? String(p.inputPerMillion) : "",
  outputPerMillion: p ? String(p.outputPerMillion) : "",
  cachedInputPerMillion: p?.cachedInputPerMillion == null ? "" : String(p.cachedInputPerMillion),
});

/** A field as the API takes it: a number, or the text as typed so the server can say what is wrong. */
function numberOf(text: string): number | string | null {
  if (text.trim() === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/** The price table as rows to edit; Save replaces the whole table through PUT /api/model-prices. */
export function ModelPricesForm({ initial }: { initial: ModelPrice[] }) {
  const [rows, setRows] = useState<Row[]>(() => initial.map(rowOf));
  const [pending, setPending] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: string } | undefined>();

  const update = (key: number, change: Partial<Row>) =>
    setRows((all) => all.map((r) => (r.key === key ? { ...r, ...change } : r)));

  async function save() {
    setPending(true);
    setResult(undefined);
    try {
      const prices = rows
        .filter((r) => r.model.trim() !== "" || r.inputPerMillion !== "" || r.outputPerMillion !== "")
        .map((r) => ({
          model: r.model,
          inputPerMillion: numberOf(r.inputPerMillion),
          outputPerMillion: numberOf(r.outputPerMillion),
          cachedInputPerMillion: numberOf(r.cachedInputPerMillion),
        }));
      const res = await fetch("/api/model-prices", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prices }),
      });
      const body = (await res.json()) as { prices?: ModelPrice[]; error?: { message: string } };
      if (!res.ok || !body.prices) {
        setResult({ ok: false, message: body.error?.message ?? `Saving failed (HTTP ${res.status})` });
        return;
      }
      setRows(body.prices.map(rowOf));
      setResult({ ok: true, message: "Prices saved." });
    } catch {
      setResult({ ok: false, message: "Saving failed: the server did not answer" });
    } finally {
      setPending(false);
    }
  }

  return (
    <form
      aria-label="Model prices"
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <table className="w-full table-fixed text-sm">
        <thead>
          <tr className="text-left text-xs uppercase tracking-wide text-zinc-600 dark:text-zinc-400">
            <th className="w-2/5 pb-2 font-medium">Model</th>
            {COLUMNS.map((c) => (
              <th key={c.name} className="pb-2 pl-2 font-medium">
                {c.label}
              </th>
            ))}
            <th className="w-20" />
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={row.key} data-testid="model-price-row">
              <td className="py-1">
                <input
                  aria-label={`Model ${i + 1}`}
                  value={row.model}
                  placeholder="openai:gpt-4o"
                  onChange={(e) => update(row.key, { model: e.target.value })}
                  className={`${inputClass} font-mono`}
                />
              </td>
              {COLUMNS.map((c) => (
                <td key={c.name} className="py-1 pl-2">
                  <input
                    aria-label={`${c.label} of model ${i + 1}`}
                    inputMode="decimal"
                    value={row[c.name]}
                    placeholder={c.name === "cachedInputPerMillion" ? "as input" : "0"}
                    onChange={(e) => update(row.key, { [c.name]: e.target.value })}
                    className={inputClass}
                  />
                </td>
              ))}
              <td className="py-1 pl-2">
                <button
                  type="button"
                  aria-label={`Remove model ${i + 1}`}
                  onClick={() => setRows((all) => all.filter((r) => r.key !== row.key))}
                  className="rounded-md px-2 py-1 text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-900"
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">No prices yet: every model's usage shows “no price”.</p>
      ) : null}
      <div className="flex items-center gap-3">
        <button
          type="button"
          onClick={() => setRows((all) => [...all, rowOf()])}
          className="rounded-md border border-zinc-300 px-3 py-2 text-sm hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-900"
        >
          Add a model
        </button>
        <button type="submit" disabled={pending} className={primaryButtonClass}>
          {pending ? "Saving…" : "Save prices"}
        </button>
      </div>
      {result ? (
        <p
          role={result.ok ? "status" : "alert"}
          className={`text-sm ${result.ok ? "text-emerald-700 dark:text-emerald-400" : "text-red-700 dark:text-red-400"}`}
        >
          {result.message}
        </p>
      ) : null}
    </form>
  );
}
