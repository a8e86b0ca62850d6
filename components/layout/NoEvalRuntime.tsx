"use client";

import { z } from "zod";

// The content security policy forbids eval. Zod, used in the browser by the chat's AI SDK, would
// otherwise probe for it before its first parse (a probe Chromium reports as a violation) to compile
// faster parsers; told not to, it never tries.
z.config({ jitless: true });

/** Loads the setting above into every signed-in page (where the chat runs); renders nothing. */
export function NoEvalRuntime() {
  return null;
}
