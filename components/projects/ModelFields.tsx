"use client";

import { useEffect, useState } from "react";
import { FieldError } from "@/components/forms/FieldError";
import { inputClass } from "@/components/forms/styles";

/** A provider as the picker shows it; `scripted` is the offline model. */
export interface ProviderChoice {
  value: string;
  label: string;
  keySecret?: string;
  exampleBaseUrl?: string;
  takesBaseUrl?: boolean;
}

type ModelList = { state: "loading" } | { state: "loaded"; ids: string[] } | { state: "failed"; message: string };

interface TestResult {
  ok: boolean;
  message: string;
}

const secondaryButtonClass =
  "rounded-md border border-zinc-300 px-3 py-2 text-sm font-medium hover:bg-zinc-50 disabled:opacity-60 dark:border-zinc-700 dark:hover:bg-zinc-900";

async function errorMessageOf(res: Response): Promise<string> {
  const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  return body?.error?.message ?? `HTTP ${res.status}`;
}

/**
 * The model part of the settings form: the provider, an OpenAI-compatible server's base URL, the
 * model picked from the provider's live list (typed when the list cannot be loaded), and Test
 * connection. The form submits `provider`, `modelId` and `modelBaseUrl`.
 */
export function ModelFields({
  projectId,
  providers,
  initial,
  errors,
}: {
  projectId: string;
  providers: ProviderChoice[];
  initial: { provider: string; modelId: string; modelBaseUrl: string };
  errors: { provider?: string; modelId?: string; modelBaseUrl?: string };
}) {
  const [provider, setProvider] = useState(initial.provider);
  const [modelId, setModelId] = useState(initial.modelId);
  const [baseUrl, setBaseUrl] = useState(initial.modelBaseUrl);
  // The base URL the list was asked for: taken when the field is left, not at every keystroke.
  const [listedBaseUrl, setListedBaseUrl] = useState(initial.modelBaseUrl);
  const [list, setList] = useState<ModelList>({ state: "loading" });
  const [test, setTest] = useState<TestResult | "testing" | undefined>();
  const choice = providers.find((p) => p.value === provider);
  const takesBaseUrl = choice?.takesBaseUrl === true;

  useEffect(() => {
    if (provider === "scripted") return;
    const controller = new AbortController();
    setList({ state: "loading" });
    setTest(undefined);
    const query = new URLSearchParams({ provider });
    if (takesBaseUrl && listedBaseUrl.trim()) query.set("baseUrl", listedBaseUrl.trim());
    fetch(`/api/projects/${projectId}/models?${query}`, { signal: controller.signal })
      .then(async (res) => {
        if (!res.ok) return setList({ state: "failed", message: await errorMessageOf(res) });
        const body = (await res.json()) as { models: { id: string }[] };
        setList({ state: "loaded", ids: body.models.map((m) => m.id) });
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setList({ state: "failed", message: String(err) });
      });
    return () => controller.abort();
  }, [projectId, provider, takesBaseUrl, listedBaseUrl]);

  async function testConnection() {
    setTest("testing");
    try {
      const res = await fetch(`/api/projects/${projectId}/test-connection`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          provider,
          ...(takesBaseUrl && baseUrl.trim() ? { baseUrl: baseUrl.trim() } : {}),
          ...(modelId.trim() ? { model: modelId.trim() } : {}),
        }),
      });
      setTest(res.ok ? ((await res.json()) as TestResult) : { ok: false, message: await errorMessageOf(res) });
    } catch (err) {
      setTest({ ok: false, message: String(err) });
    }
  }

  const ids = list.state === "loaded" ? list.ids : [];
  // A saved model the provider no longer lists stays selectable, so saving other settings keeps it.
  const options = modelId && !ids.includes(modelId) ? [modelId, ...ids] : ids;
  const modelInvalid = errors.modelId ? { "aria-invalid": true, "aria-describedby": "modelId-error" } : {};

  return (
    <>
      <div>
        <label htmlFor="provider" className="mb-1 block text-sm font-medium">
          Provider
        </label>
        <select
          id="provider"
          name="provider"
          value={provider}
          onChange={(e) => {
            setProvider(e.target.value);
            setModelId(e.target.value === initial.provider ? initial.modelId : "");
          }}
          className={inputClass}
        >
          {providers.map((p) => (
            <option key={p.value} value={p.value}>
              {p.label}
            </option>
          ))}
        </select>
        {choice?.keySecret ? (
          <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
            Its key is the project secret <code>{choice.keySecret}</code>
            {choice.takesBaseUrl ? " (if the server asks for one)" : ""}.
          </p>
        ) : null}
        <FieldError id="provider-error" message={errors.provider} />
      </div>
      {takesBaseUrl ? (
        <div>
          <label htmlFor="modelBaseUrl" className="mb-1 block text-sm font-medium">
            Base URL
          </label>
          <input
            id="modelBaseUrl"
            name="modelBaseUrl"
            type="url"
            value={baseUrl}
            placeholder={choice?.exampleBaseUrl}
            onChange={(e) => setBaseUrl(e.target.value)}
            onBlur={() => setListedBaseUrl(baseUrl)}
            aria-invalid={errors.modelBaseUrl ? true : undefined}
            aria-describedby={errors.modelBaseUrl ? "modelBaseUrl-error" : undefined}
            className={inputClass}
          />
          <FieldError id="modelBaseUrl-error" message={errors.modelBaseUrl} />
        </div>
      ) : null}
      {provider === "scripted" ? null : (
        <div className="sm:col-span-2">
          <label htmlFor="modelId" className="mb-1 block text-sm font-medium">
            Model
          </label>
          <div className="flex flex-wrap items-start gap-2">
            <div className="min-w-0 flex-1">
              {list.state === "loaded" && options.length > 0 ? (
                <select
                  id="modelId"
                  name="modelId"
                  value={modelId}
                  onChange={(e) => setModelId(e.target.value)}
                  className={inputClass}
                  {...modelInvalid}
                >
                  <option value="">Choose a model…</option>
                  {options.map((id) => (
                    <option key={id} value={id}>
                      {id}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id="modelId"
                  name="modelId"
                  value={modelId}
                  onChange={(e) => setModelId(e.target.value)}
                  placeholder={list.state === "loading" ? "Loading the models…" : "the model's name"}
                  className={inputClass}
                  {...modelInvalid}
                />
              )}
            </div>
            <button
              type="button"
              onClick={testConnection}
              disabled={test === "testing"}
              className={secondaryButtonClass}
            >
              {test === "testing" ? "Testing…" : "Test connection"}
            </button>
          </div>
          {list.state === "failed" ? (
            <p data-testid="model-list-problem" className="mt-1 text-sm text-amber-800 dark:text-amber-300">
              The model list could not be loaded ({list.message}); type the model&apos;s name.
            </p>
          ) : null}
          <FieldError id="modelId-error" message={errors.modelId} />
          {test && test !== "testing" ? (
            <p
              data-testid="connection-result"
              role={test.ok ? "status" : "alert"}
              className={`mt-2 rounded-md px-3 py-2 text-sm ${
                test.ok
                  ? "bg-emerald-50 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200"
                  : "bg-red-50 text-red-800 dark:bg-red-950 dark:text-red-200"
              }`}
            >
              {test.message}
            </p>
          ) : null}
        </div>
      )}
    </>
  );
}
