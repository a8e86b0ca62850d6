/** The daemon's version: its health answer, its heartbeats and its join request report it. */
export const VERSION = "0.1.0";
