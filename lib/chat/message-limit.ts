/**
 * The longest message the chat takes, in characters: a message that starts a session becomes its
 * task's prompt, which holds at most this many. The composer counts against it too.
 */
export const CHAT_MESSAGE_MAX = 32_000;
