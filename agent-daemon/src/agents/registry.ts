/**
 * The external ACP agents a node can run, in one table: the npm package at a pinned version, how it
 * is started, the Node.js it needs, the model providers it can use, and how it is pointed at a
 * model. It is always pointed at the session's key endpoint (keys/key-proxy.ts) with a dummy key:
 * the real key never reaches it.
 */
import { HARNESS_MODEL_PROVIDERS, type HarnessKind, MODEL_PROVIDERS, type ModelProvider } from "../contract.ts";

export { MODEL_PROVIDERS, type ModelProvider };

/** The Node.js every installed agent runs with (npm's `node` package), whatever the node's own. */
export const AGENT_NODE_PACKAGE = "node@22.23.2";

/** What an agent is told about its model: all of it points at the session's key endpoint. */
export interface AgentModel {
  provider: ModelProvider;
  /** The model id without its provider prefix. */
  modelId: string;
  /** The key endpoint's base URL in the provider's own shape (OpenAI's ends in /v1, Anthropic's too). */
  baseUrl: string;
  /** The session's dummy key: the only one the key endpoint accepts. */
  apiKey: string;
}

/** How an agent is pointed at its model: environment variables and files under its HOME. */
export interface AgentSetup {
  env: Record<string, string>;
  /** Paths relative to HOME → contents. */
  files: Record<string, string>;
  /** The ACP auth method to call `authenticate` with, for an agent that requires it. */
  authMethod?: string;
}

export interface AgentSpec {
  kind: ExternalAgentKind;
  /** A human name for messages. */
  title: string;
  /** npm package and exact version; absent for the custom `acp` command. */
  package?: { name: string; version: string; bin: string };
  args: string[];
  /** The Node.js major the agent needs; it runs with AGENT_NODE_PACKAGE. */
  nodeMajor?: number;
  providers: readonly ModelProvider[];
  setup(model: AgentModel): AgentSetup;
}

export const EXTERNAL_AGENT_KINDS = ["claude-code", "codex", "gemini", "opencode", "qwen-code", "acp"] as const;
export type ExternalAgentKind = (typeof EXTERNAL_AGENT_KINDS)[number];

export function isExternalAgent(kind: HarnessKind): kind is ExternalAgentKind {
  return (EXTERNAL_AGENT_KINDS as readonly string[]).includes(kind);
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
/** Anthropic's SDKs add /v1 themselves; the AI SDK's base URL includes it. */
const withoutV1 = (url: string) => url.replace(/\/v1\/?$/, "");
/** The Google GenAI SDK adds its API version itself. */
const withoutVersion = (url: string) => url.replace(/\/v1(beta|alpha)?\/?$/, "");

// Updates, telemetry and error reports stay off: sessions run unattended, and in a sandbox with
// network `none` they could only fail.
const QUIET_ENV = { NO_UPDATE_NOTIFIER: "1", DO_NOT_TRACK: "1" };

const SPECS: Record<ExternalAgentKind, AgentSpec> = {
  "claude-code": {
    kind: "claude-code",
    title: "Claude Code",
    // The successor of @zed-industries/claude-code-acp (whose last release is 0.16.2).
    package: { name: "@agentclientprotocol/claude-agent-acp", version: "0.101.0", bin: "claude-agent-acp" },
    args: [],
    nodeMajor: 22,
    providers: HARNESS_MODEL_PROVIDERS["claude-code"],
    setup: (m) => ({
      env: {
        ...QUIET_ENV,
        ANTHROPIC_API_KEY: m.apiKey,
        ANTHROPIC_BASE_URL: withoutV1(m.baseUrl),
        ANTHROPIC_MODEL: m.modelId,
        DISABLE_TELEMETRY: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_ERROR_REPORTING: "1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      },
      files: {},
    }),
  },
  codex: {
    kind: "codex",
    title: "Codex",
    package: { name: "@zed-industries/codex-acp", version: "0.16.0", bin: "codex-acp" },
    args: [],
    nodeMajor: 22,
    providers: HARNESS_MODEL_PROVIDERS.codex,
    setup: (m) => ({
      env: { ...QUIET_ENV, SAM_MODEL_API_KEY: m.apiKey },
      files: {
        ".codex/config.toml": [
          `model = ${JSON.stringify(m.modelId)}`,
          `model_provider = "sam"`,
          "",
          "[model_providers.sam]",
          `name = "SAM key endpoint"`,
          `base_url = ${JSON.stringify(m.baseUrl)}`,
          `env_key = "SAM_MODEL_API_KEY"`,
          `wire_api = ${m.provider === "openai" ? '"responses"' : '"chat"'}`,
          "",
          "[analytics]",
          "enabled = false",
          "",
        ].join("\n"),
      },
    }),
  },
  gemini: {
    kind: "gemini",
    title: "Gemini CLI",
    package: { name: "@google/gemini-cli", version: "0.61.0", bin: "gemini" },
    args: ["--experimental-acp"],
    nodeMajor: 22,
    providers: HARNESS_MODEL_PROVIDERS.gemini,
    setup: (m) => ({
      env: {
        ...QUIET_ENV,
        GEMINI_API_KEY: m.apiKey,
        GOOGLE_GEMINI_BASE_URL: withoutVersion(m.baseUrl),
        GEMINI_MODEL: m.modelId,
        GEMINI_CLI_NO_RELAUNCH: "true",
      },
      files: {
        ".gemini/settings.json": json({
          security: { auth: { selectedType: "gemini-api-key" } },
          privacy: { usageStatisticsEnabled: false },
          telemetry: { enabled: false },
          general: { disableAutoUpdate: true, disableUpdateNag: true },
        }),
      },
    }),
  },
  opencode: {
    kind: "opencode",
    title: "OpenCode",
    package: { name: "opencode-ai", version: "1.18.33", bin: "opencode" },
    args: ["acp"],
    nodeMajor: 22,
    providers: HARNESS_MODEL_PROVIDERS.opencode,
    setup: (m) => {
      const npm =
        m.provider === "anthropic"
          ? "@ai-sdk/anthropic"
          : m.provider === "openai"
            ? "@ai-sdk/openai"
            : "@ai-sdk/openai-compatible";
      return {
        env: { ...QUIET_ENV, OPENCODE_DISABLE_AUTOUPDATE: "1", OPENCODE_DISABLE_SHARE: "1" },
        files: {
          ".config/opencode/opencode.json": json({
            $schema: "https://opencode.ai/config.json",
            autoupdate: false,
            share: "disabled",
            model: `sam/${m.modelId}`,
            provider: {
              sam: {
                npm,
                name: "SAM key endpoint",
                options: { baseURL: m.baseUrl, apiKey: m.apiKey },
                models: { [m.modelId]: { name: m.modelId } },
              },
            },
          }),
        },
      };
    },
  },
  "qwen-code": {
    kind: "qwen-code",
    title: "Qwen Code",
    package: { name: "@qwen-code/qwen-code", version: "0.24.4", bin: "qwen" },
    args: ["--acp"],
    nodeMajor: 22,
    providers: HARNESS_MODEL_PROVIDERS["qwen-code"],
    setup: (m) => {
      const anthropic = m.provider === "anthropic";
      return {
        env: {
          ...QUIET_ENV,
          ...(anthropic
            ? { ANTHROPIC_API_KEY: m.apiKey, ANTHROPIC_BASE_URL: withoutV1(m.baseUrl), ANTHROPIC_MODEL: m.modelId }
            : { OPENAI_API_KEY: m.apiKey, OPENAI_BASE_URL: m.baseUrl, OPENAI_MODEL: m.modelId }),
          QWEN_USAGE_STATISTICS_ENABLED: "false",
        },
        files: {
          ".qwen/settings.json": json({
            security: { auth: { selectedType: anthropic ? "anthropic" : "openai" } },
            model: { name: m.modelId },
            privacy: { usageStatisticsEnabled: false },
            telemetry: { enabled: false },
            general: { enableAutoUpdate: false, disableAutoUpdate: true, disableUpdateNag: true },
            // SAM's MCP tools declared to the model as tools of their own, not behind a tool_search step.
            tools: { toolSearch: { enabled: false } },
          }),
        },
        authMethod: anthropic ? "anthropic" : "openai",
      };
    },
  },
  acp: {
    kind: "acp",
    title: "the custom ACP agent",
    args: [],
    providers: HARNESS_MODEL_PROVIDERS.acp,
    // A custom agent reads whichever convention it knows: SAM's own (those of SAM's agent run
    // standalone: SAM_MODEL as provider:model) and the providers' usual variables.
    setup: (m) => ({
      env: {
        SAM_MODEL: `${m.provider}:${m.modelId}`,
        SAM_MODEL_BASE_URL: m.baseUrl,
        SAM_MODEL_API_KEY: m.apiKey,
        ...(m.provider === "anthropic"
          ? { ANTHROPIC_API_KEY: m.apiKey, ANTHROPIC_BASE_URL: withoutV1(m.baseUrl) }
          : m.provider === "google"
            ? { GEMINI_API_KEY: m.apiKey, GOOGLE_GEMINI_BASE_URL: withoutVersion(m.baseUrl) }
            : {
                OPENAI_API_KEY: m.apiKey,
                OPENAI_BASE_URL: m.baseUrl,
                ...(m.provider === "openai-compatible" ? { OPENAI_COMPATIBLE_API_KEY: m.apiKey } : {}),
              }),
      },
      files: {},
    }),
  },
};

export function agentSpec(kind: ExternalAgentKind): AgentSpec {
  return SPECS[kind];
}

/** The provider of a `provider:model` string, or why it cannot run with this agent. */
export function agentModel(
  spec: AgentSpec,
  model: string,
): { ok: true; provider: ModelProvider; modelId: string } | { ok: false; reason: string } {
  const colon = model.indexOf(":");
  const provider = colon > 0 ? model.slice(0, colon) : model;
  const modelId = colon > 0 ? model.slice(colon + 1) : "";
  if (!(MODEL_PROVIDERS as readonly string[]).includes(provider) || !modelId) {
    return {
      ok: false,
      reason: `${spec.title} needs a model as provider:model with provider one of ${spec.providers.join(", ")}; got ${JSON.stringify(model)}`,
    };
  }
  if (!spec.providers.includes(provider as ModelProvider)) {
    return {
      ok: false,
      reason: `${spec.title} cannot use ${provider} models; choose a model from ${spec.providers.join(", ")}`,
    };
  }
  return { ok: true, provider: provider as ModelProvider, modelId };
}
