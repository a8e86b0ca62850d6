import type { CommandLog } from "./command-log.ts";
import {
  type ChannelLine,
  type ChannelRequest,
  type CommandResult,
  channelLineSchema,
  DAEMON_ROUTES,
  WEB_ROUTES,
} from "./contract.ts";
import { log } from "./log.ts";
import { postToWeb, webEndpoint } from "./web-client.ts";

type Command = Extract<ChannelLine, { type: "command" }>;

export interface ChannelClientOptions {
  webUrl: string;
  /** The node credential: the bearer token toward the web app and the node's own API. */
  credential: string;
  hello: ChannelRequest;
  /** The node's own API, where each command runs as the web app would have called it. */
  apiUrl: string;
  commands: CommandLog;
  /** The web app refused the credential (the node was removed or declared lost). */
  onRevoked: (reason: string) => void;
}

// Reconnecting after an error waits this long at first, doubling up to the cap.
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;
// The web app pings every 10 s: a channel silent for longer than this is dead, whatever TCP says.
const SILENCE_MS = 30_000;
// A command the web app stopped waiting for is not worth running longer than this.
const COMMAND_TIMEOUT_MS = 10 * 60_000;
const RESULT_ATTEMPTS = 5;

function errorResult(status: number, code: string, message: string): CommandResult {
  return { status, body: { error: { code, message } } };
}

/** Why a fetch failed: fetch's own message is a bare "fetch failed"; its cause says what happened. */
function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? err.cause.message : err.message;
}

/**
 * Holds the node's command channel to the web app: a POST whose answer streams the commands for this
 * node as NDJSON lines. The web app ends it now and then; it is opened again at once (after an error,
 * with a backoff of at most 2 s). Each command runs once against the node's own API — a command sent
 * again is answered from the command log — and its result is posted back.
 */
export class ChannelClient {
  private stopped = false;
  private readonly abort = new AbortController();
  /** Commands running now: a copy sent on a new connection waits for the first run's answer. */
  private readonly running = new Set<string>();
  private readonly endpoint: string;
  private failing: string | undefined;

  constructor(private readonly opts: ChannelClientOptions) {
    this.endpoint = webEndpoint(opts.webUrl, WEB_ROUTES.channel);
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  private async loop(): Promise<void> {
    let backoff = 0;
    while (!this.stopped) {
      const failure = await this.connectOnce();
      if (this.stopped) return;
      if (failure === "HTTP 401") {
        this.stop();
        this.opts.onRevoked("the web app refused this node's credential (HTTP 401)");
        return;
      }
      if (failure === undefined) {
        backoff = 0;
        continue;
      }
      if (failure !== this.failing) log(`command channel failed (${failure}); reconnecting`);
      this.failing = failure;
      backoff = Math.min(MAX_BACKOFF_MS, backoff === 0 ? FIRST_BACKOFF_MS : backoff * 2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff);
        this.abort.signal.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  /** One connection, until the web app ends it (undefined) or it fails (why). */
  private async connectOnce(): Promise<string | undefined> {
    const connection = new AbortController();
    const signal = AbortSignal.any([this.abort.signal, connection.signal]);
    let silence: NodeJS.Timeout | undefined;
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(() => connection.abort(new Error("the channel went silent")), SILENCE_MS);
    };
    try {
      heard();
      const res = await fetch(this.endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${this.opts.credential}`, "content-type": "application/json" },
        body: JSON.stringify(this.opts.hello),
        signal,
      });
      if (!res.ok || !res.body) {
        await res.arrayBuffer().catch(() => {});
        return `HTTP ${res.status}`;
      }
      if (this.failing !== undefined) log("command channel connected again");
      this.failing = undefined;
      const decoder = new TextDecoder();
      let buffered = "";
      for await (const chunk of res.body) {
        heard();
        buffered += decoder.decode(chunk, { stream: true });
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          this.receive(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf("\n");
        }
      }
      return undefined;
    } catch (err) {
      if (connection.signal.aborted && connection.signal.reason instanceof Error)
        return connection.signal.reason.message;
      return reasonOf(err);
    } finally {
      clearTimeout(silence);
    }
  }

  private receive(text: string): void {
    if (text.trim() === "") return;
    let line: ChannelLine;
    try {
      line = channelLineSchema.parse(JSON.parse(text));
    } catch (err) {
      log(`ignored a channel line that is not a command: ${(err as Error).message.slice(0, 200)}`);
      return;
    }
    if (line.type === "command") void this.run(line);
  }

  private async run(command: Command): Promise<void> {
    // Sent again while the first copy runs: that run answers.
    if (this.running.has(command.id)) return;
    const { commands } = this.opts;
    const stored = commands.get(command.id);
    if (stored === "started") {
      // Begun by an earlier run of this daemon that stopped before it ended: never run twice.
      const result = errorResult(503, "interrupted", "The node restarted while it ran this command");
      commands.finish(command.id, result);
      await this.answer(command.id, result);
      return;
    }
    if (stored) {
      await this.answer(command.id, stored);
      return;
    }
    if (!commands.begin(command.id)) return;
    this.running.add(command.id);
    let result: CommandResult;
    try {
      result = await this.execute(command);
    } finally {
      this.running.delete(command.id);
    }
    commands.finish(command.id, result);
    await this.answer(command.id, result);
  }

  /** Runs the command against the node's own API, as the web app would have called it over HTTP. */
  private async execute(command: Command): Promise<CommandResult> {
    // The owner hold is for a web app on the same machine; a channel never carries it.
    if (command.route === DAEMON_ROUTES.owner) {
      return errorResult(403, "forbidden", "The owner hold is not a channel command");
    }
    try {
      const res = await fetch(`${this.opts.apiUrl}${command.route}`, {
        method: command.method,
        headers: {
          authorization: `Bearer ${this.opts.credential}`,
          ...(command.body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: command.body === undefined ? undefined : JSON.stringify(command.body),
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(COMMAND_TIMEOUT_MS)]),
      });
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.status, ...(body === undefined ? {} : { body }) };
    } catch (err) {
      return errorResult(502, "unavailable", `The node's API did not answer: ${reasonOf(err)}`);
    }
  }

  /** Posts a result; one that does not get through is asked for again when the command is re-sent. */
  private async answer(id: string, result: CommandResult): Promise<void> {
    const endpoint = webEndpoint(this.opts.webUrl, WEB_ROUTES.commandResult(id));
    for (let attempt = 1; attempt <= RESULT_ATTEMPTS && !this.stopped; attempt++) {
      const failure = await postToWeb(
        endpoint,
        this.opts.credential,
        result,
        AbortSignal.any([this.abort.signal, AbortSignal.timeout(10_000)]),
      );
      // Delivered, or the web app forgot the command (it is not waiting for it any more).
      if (failure === undefined || failure === "HTTP 404") return;
      if (failure === "HTTP 401" || failure === "HTTP 400") {
        log(`the result of command ${id} was refused (${failure})`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt)));
    }
  }
}
