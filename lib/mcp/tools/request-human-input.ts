import { requestHumanInput, requestHumanInputSchema } from "../../tasks/human-input";
import { defineTool } from "../tool";

export const requestHumanInputTool = defineTool({
  name: "request_human_input",
  description:
    "Ask a person a question you cannot settle yourself (a decision, a missing fact, an approval). " +
    "options (1-10 short distinct answers) are shown as buttons; without them the person writes a free answer. " +
    "Your task waits (awaiting_input) and the project's people are notified. After calling it, end your turn: " +
    "the answer arrives as your next message in this same session. One open question at a time.",
  input: requestHumanInputSchema,
  handler: (ctx, args) => requestHumanInput(ctx.db, ctx.caller, args),
});
