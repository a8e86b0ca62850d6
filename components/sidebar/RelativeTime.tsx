"use client";

import { useEffect, useState } from "react";

const UNITS: [limitSeconds: number, seconds: number, unit: Intl.RelativeTimeFormatUnit][] = [
  [60, 1, "second"],
  [3600, 60, "minute"],
  [86_400, 3600, "hour"],
  [604_800, 86_400, "day"],
  [2_629_800, 604_800, "week"],
  [31_557_600, 2_629_800, "month"],
  [Number.POSITIVE_INFINITY, 31_557_600, "year"],
];

const format = new Intl.RelativeTimeFormat("en", { numeric: "auto", style: "narrow" });

/** "5 min. ago" for an epoch-ms moment; "just now" within ten seconds. */
export function relativeTime(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  if (Math.abs(seconds) < 10) return "just now";
  const [, size, unit] = UNITS.find(([limit]) => Math.abs(seconds) < limit) ?? UNITS[UNITS.length - 1]!;
  return format.format(Math.round(seconds / size), unit);
}

/** A moment as "3 min. ago", kept current; its full date is the tooltip. */
export function RelativeTime({ at }: { at: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  const iso = new Date(at).toISOString();
  return (
    // The server's clock and the reader's differ by the render's delay: the text may too.
    <time dateTime={iso} title={iso.replace("T", " ").slice(0, 19)} suppressHydrationWarning>
      {relativeTime(at, now)}
    </time>
  );
}
