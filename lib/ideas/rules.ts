import { z } from "zod";
import { IDEA_STATUSES, type IdeaStatus } from "@/db/schema";

export const TITLE_MAX = 200;
export const CONTENT_MAX = 65_536;

/** Statuses people and agents move an idea between; `executing` and `done` belong to Execute and its task. */
export const MOVABLE_STATUSES = ["draft", "exploring", "ready", "parked"] as const satisfies readonly IdeaStatus[];
export type MovableStatus = (typeof MOVABLE_STATUSES)[number];

export function isMovable(status: IdeaStatus): status is MovableStatus {
  return (MOVABLE_STATUSES as readonly IdeaStatus[]).includes(status);
}

/** Priority is a small scale: 0 none, 1 low, 2 medium, 3 high. */
export const PRIORITIES = [0, 1, 2, 3] as const;
export const PRIORITY_LABELS: Record<number, string> = { 0: "none", 1: "low", 2: "medium", 3: "high" };

export const titleSchema = z
  .string({ message: "A title is required" })
  .trim()
  .min(1, { message: "The title is empty" })
  .max(TITLE_MAX, { message: `The title is longer than ${TITLE_MAX} characters` });

export const contentSchema = z
  .string()
  .max(CONTENT_MAX, { message: `The content is longer than ${CONTENT_MAX.toLocaleString("en")} characters` });

export const prioritySchema = z.coerce
  .number({ message: "Priority must be a number from 0 to 3" })
  .int({ message: "Priority must be a whole number from 0 to 3" })
  .min(0, { message: "Priority must be from 0 (none) to 3 (high)" })
  .max(3, { message: "Priority must be from 0 (none) to 3 (high)" });

export const movableStatusSchema = z.enum(MOVABLE_STATUSES, {
  message: `Status must be one of ${MOVABLE_STATUSES.join(", ")} (executing and done are set by Execute and its task)`,
});

export const anyStatusSchema = z.enum(IDEA_STATUSES, { message: `Status must be one of ${IDEA_STATUSES.join(", ")}` });

/** A link's context note: why this conversation matters to the idea. */
export const linkContextSchema = z
  .string()
  .trim()
  .max(2000, { message: "The context note is longer than 2,000 characters" });

export const ideaIdSchema = z.string({ message: "An idea id is required" }).trim().min(1).max(100);

const createIdeaFields = {
  title: titleSchema,
  content: contentSchema.default(""),
  priority: prioritySchema.default(0),
};

export const createIdeaSchema = z.object(createIdeaFields).strict();

/** create_idea's arguments: the idea and, optionally, why this conversation matters to it. */
export const createIdeaToolSchema = z.object({ ...createIdeaFields, context: linkContextSchema.optional() }).strict();

const updateIdeaFields = {
  title: titleSchema.optional(),
  content: contentSchema.optional(),
  append: z
    .string()
    .trim()
    .min(1, { message: "Nothing to append" })
    .max(CONTENT_MAX, { message: `The text to append is longer than ${CONTENT_MAX.toLocaleString("en")} characters` })
    .optional(),
  status: movableStatusSchema.optional(),
  priority: prioritySchema.optional(),
};

const oneContentChange = (v: { content?: string; append?: string }) =>
  !(v.content !== undefined && v.append !== undefined);
const oneContentChangeIssue = { message: "Give content (replace) or append, not both", path: ["append"] };

export const updateIdeaSchema = z.object(updateIdeaFields).strict().refine(oneContentChange, oneContentChangeIssue);

/** update_idea's arguments: the idea and its changes. */
export const updateIdeaToolSchema = z
  .object({ ideaId: ideaIdSchema, ...updateIdeaFields })
  .strict()
  .refine(oneContentChange, oneContentChangeIssue);

/** Where a card lands: a column, and the card it goes after (none: the top of the column). */
export const moveIdeaSchema = z
  .object({
    ideaId: ideaIdSchema,
    status: anyStatusSchema,
    afterId: ideaIdSchema.nullable().default(null),
  })
  .strict();

export const listIdeasSchema = z
  .object({
    status: anyStatusSchema.optional(),
    query: z.string().trim().max(200, { message: "The query is longer than 200 characters" }).optional(),
    limit: z.coerce.number().int().min(1).max(200, { message: "The limit is at most 200" }).default(50),
  })
  .strict();
