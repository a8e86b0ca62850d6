"use client";

import { useEffect, useState } from "react";

/**
 * A moment in the reader's time zone. The server knows no time zone of the reader, so the first
 * render (on the server, and the client's hydration) shows UTC and the browser then localises it.
 */
export function LocalTime({ at, dateToo = false }: { at: string; dateToo?: boolean }) {
  const [text, setText] = useState(() => `${at.slice(dateToo ? 0 : 11, 19).replace("T", " ")} UTC`);
  useEffect(() => {
    const date = new Date(at);
    setText(dateToo ? date.toLocaleString() : date.toLocaleTimeString());
  }, [at, dateToo]);
  return (
    <time dateTime={at} title={at} className="tabular-nums">
      {text}
    </time>
  );
}
