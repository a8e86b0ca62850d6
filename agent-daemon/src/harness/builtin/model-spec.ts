/**
 * The language-model provider interface `ai@6` drives (specification v3), taken from `ai`'s own
 * exported types so the daemon does not depend on `@ai-sdk/provider` directly.
 */
import type { LanguageModel } from "ai";

export type LanguageModelV3 = Extract<LanguageModel, { specificationVersion: "v3" }>;
export type CallOptions = Parameters<LanguageModelV3["doGenerate"]>[0];
export type Prompt = CallOptions["prompt"];
export type GenerateResult = Awaited<ReturnType<LanguageModelV3["doGenerate"]>>;
export type Content = GenerateResult["content"][number];
export type FinishReason = GenerateResult["finishReason"];
export type Usage = GenerateResult["usage"];
export type StreamResult = Awaited<ReturnType<LanguageModelV3["doStream"]>>;
export type StreamPart = StreamResult["stream"] extends ReadableStream<infer Part> ? Part : never;
