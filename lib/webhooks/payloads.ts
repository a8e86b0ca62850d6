import type { NotificationKind } from "@/db/schema";

export type WebhookFormat = "slack" | "discord" | "json";

/** A notification event as webhooks tell it. */
export interface WebhookEvent {
  seq: number;
  kind: NotificationKind;
  urgency: "low" | "normal" | "high";
  title: string;
  body: string;
  projectId: string;
  projectName: string;
  taskId: string | null;
  /** Absolute link to the task (or the project) in SAM. */
  url: string;
  createdAt: Date;
  updatedAt: Date;
}

const LABELS: Record<NotificationKind, string> = {
  needs_input: "Needs input",
  task_completed: "Task completed",
  task_failed: "Task failed",
  pr_opened: "Pull request opened",
  pr_merged: "Pull request merged",
  progress: "Progress",
};

/** Discord embed colours, as the UI colours statuses. */
const COLORS: Record<NotificationKind, number> = {
  needs_input: 0xf59e0b,
  task_completed: 0x16a34a,
  task_failed: 0xdc2626,
  pr_opened: 0x2563eb,
  pr_merged: 0x7c3aed,
  progress: 0x71717a,
};

// Discord's documented limits (content, embed title, embed description) and Slack's for a section's text.
export const DISCORD_CONTENT_MAX = 2000;
export const DISCORD_TITLE_MAX = 256;
export const DISCORD_DESCRIPTION_MAX = 4096;
export const SLACK_TEXT_MAX = 3000;

/** At most `max` UTF-16 units, ending in "…" when cut, never splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** Slack's mrkdwn escapes: without them an agent's text could write <!channel> or links of its own. */
function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escaped text within `max`, cut (if at all) before an escape rather than through one. */
function slackText(text: string, max: number): string {
  const escaped = slackEscape(text);
  if (escaped.length <= max) return escaped;
  let cut = truncate(escaped, max).slice(0, -1);
  const amp = cut.lastIndexOf("&");
  if (amp !== -1 && !cut.slice(amp).includes(";")) cut = cut.slice(0, amp);
  return `${cut}…`;
}

function slackPayload(event: WebhookEvent) {
  const label = LABELS[event.kind];
  const heading = `*<${event.url}|${slackText(event.title, 500)}>*`;
  const body = event.body.trim() === "" ? "" : `\n${event.body}`;
  return {
    text: slackText(`${label}: ${event.title}`, SLACK_TEXT_MAX),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: heading + slackText(body, SLACK_TEXT_MAX - heading.length) } },
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: slackText(`${label} · ${event.projectName}`, SLACK_TEXT_MAX) }],
      },
    ],
  };
}

function discordPayload(event: WebhookEvent) {
  return {
    content: truncate(`**${LABELS[event.kind]}** · ${event.projectName}`, DISCORD_CONTENT_MAX),
    embeds: [
      {
        title: truncate(event.title, DISCORD_TITLE_MAX),
        // Discord refuses an empty description.
        ...(event.body.trim() === "" ? {} : { description: truncate(event.body, DISCORD_DESCRIPTION_MAX) }),
        url: event.url,
        color: COLORS[event.kind],
      },
    ],
    // An agent's text must not ping @everyone or anyone else.
    allowed_mentions: { parse: [] },
  };
}

function jsonPayload(deliveryId: string, event: WebhookEvent) {
  return {
    id: deliveryId,
    event: {
      seq: event.seq,
      kind: event.kind,
      urgency: event.urgency,
      title: event.title,
      body: event.body,
      projectId: event.projectId,
      projectName: event.projectName,
      taskId: event.taskId,
      url: event.url,
      createdAt: event.createdAt.toISOString(),
      updatedAt: event.updatedAt.toISOString(),
    },
  };
}

/** The request body a webhook of `format` gets for one delivery of `event`. */
export function payloadOf(format: WebhookFormat, deliveryId: string, event: WebhookEvent): string {
  switch (format) {
    case "slack":
      return JSON.stringify(slackPayload(event));
    case "discord":
      return JSON.stringify(discordPayload(event));
    case "json":
      return JSON.stringify(jsonPayload(deliveryId, event));
  }
}
