import { createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  DISCORD_CONTENT_MAX,
  DISCORD_DESCRIPTION_MAX,
  DISCORD_TITLE_MAX,
  payloadOf,
  SLACK_TEXT_MAX,
  truncate,
  type WebhookEvent,
} from "@/lib/webhooks/payloads";
import { signBody, verifySignature } from "@/lib/webhooks/signature";

const event: WebhookEvent = {
  seq: 42,
  kind: "task_completed",
  urgency: "normal",
  title: "Add the login page",
  body: "Completed with a PR.",
  projectId: "p1",
  projectName: "demo",
  taskId: "t1",
  url: "https://sam.example.com/projects/p1/tasks/t1",
  createdAt: new Date("2026-12-01T05:00:00Z"),
  updatedAt: new Date("2026-12-01T05:00:01Z"),
};

describe("webhook signatures", () => {
  test("the signature is sha256= and the hex HMAC-SHA256 of the exact body bytes", () => {
    const body = payloadOf("json", "d1", event);
    const expected = createHmac("sha256", "a-long-shared-secret").update(Buffer.from(body)).digest("hex");
    expect(signBody("a-long-shared-secret", body)).toBe(`sha256=${expected}`);
  });

  test("it verifies with the secret, and not with another secret or a changed body", () => {
    const body = payloadOf("json", "d1", event);
    const header = signBody("a-long-shared-secret", body);
    expect(verifySignature("a-long-shared-secret", body, header)).toBe(true);
    expect(verifySignature("another-secret-entirely", body, header)).toBe(false);
    expect(verifySignature("a-long-shared-secret", body.replace("42", "43"), header)).toBe(false);
    expect(verifySignature("a-long-shared-secret", body, undefined)).toBe(false);
  });
});

describe("webhook payloads", () => {
  test("json carries the delivery id and the whole event", () => {
    expect(JSON.parse(payloadOf("json", "d1", event))).toEqual({
      id: "d1",
      event: {
        seq: 42,
        kind: "task_completed",
        urgency: "normal",
        title: "Add the login page",
        body: "Completed with a PR.",
        projectId: "p1",
        projectName: "demo",
        taskId: "t1",
        url: "https://sam.example.com/projects/p1/tasks/t1",
        createdAt: "2026-12-01T05:00:00.000Z",
        updatedAt: "2026-12-01T05:00:01.000Z",
      },
    });
  });

  test("slack gets text and blocks linking to the task, with the agent's text escaped", () => {
    const payload = JSON.parse(payloadOf("slack", "d1", { ...event, title: "Ping <!channel> & co" }));
    expect(payload.text).toBe("Task completed: Ping &lt;!channel&gt; &amp; co");
    expect(payload.blocks[0]).toEqual({
      type: "section",
      text: {
        type: "mrkdwn",
        text: "*<https://sam.example.com/projects/p1/tasks/t1|Ping &lt;!channel&gt; &amp; co>*\nCompleted with a PR.",
      },
    });
    expect(payload.blocks[1]).toEqual({
      type: "context",
      elements: [{ type: "mrkdwn", text: "Task completed · demo" }],
    });
    expect(JSON.stringify(payload)).not.toContain("<!channel>");
  });

  test("slack text is cut within its limit without breaking an escape", () => {
    const payload = JSON.parse(payloadOf("slack", "d1", { ...event, title: "&".repeat(5000), body: "<".repeat(5000) }));
    expect(payload.text.length).toBeLessThanOrEqual(SLACK_TEXT_MAX);
    expect(payload.text).toMatch(/^Task completed: (&amp;)+…$/);
    expect(payload.blocks[0].text.text.length).toBeLessThanOrEqual(SLACK_TEXT_MAX);
    expect(payload.blocks[0].text.text).toMatch(/(&lt;)+…$/);
  });

  test("discord gets content and one embed, within Discord's limits, mentioning no one", () => {
    const payload = JSON.parse(payloadOf("discord", "d1", event));
    expect(payload).toEqual({
      content: "**Task completed** · demo",
      embeds: [
        {
          title: "Add the login page",
          description: "Completed with a PR.",
          url: "https://sam.example.com/projects/p1/tasks/t1",
          color: 0x16a34a,
        },
      ],
      allowed_mentions: { parse: [] },
    });
    const long = JSON.parse(
      payloadOf("discord", "d1", {
        ...event,
        title: "t".repeat(1000),
        body: "b".repeat(10_000),
        projectName: "p".repeat(3000),
      }),
    );
    expect(long.content.length).toBe(DISCORD_CONTENT_MAX);
    expect(long.embeds[0].title.length).toBe(DISCORD_TITLE_MAX);
    expect(long.embeds[0].description.length).toBe(DISCORD_DESCRIPTION_MAX);
    expect(long.embeds[0].title.endsWith("…")).toBe(true);
  });

  test("truncation never splits a character made of two UTF-16 units", () => {
    const cut = truncate("😀".repeat(10), 6);
    expect(cut).toBe("😀😀…");
    expect(cut.length).toBeLessThanOrEqual(6);
  });
});
