"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";

type StreamState = "connecting" | "live" | "reconnecting" | "lost";

/**
 * Keeps a PR's page current: its stream sends a version whenever commits, comments or the state
 * change, and a version other than the one the page was drawn with reloads the page's data.
 */
export function PullLiveRefresh({ pullId }: { pullId: string }) {
  const router = useRouter();
  const last = useRef<string | undefined>(undefined);
  const [state, setState] = useState<StreamState>("connecting");
  useEffect(() => {
    const source = new EventSource(`/api/pulls/${encodeURIComponent(pullId)}/stream`);
    source.addEventListener("open", () => setState("live"));
    source.addEventListener("pull", (e) => {
      const { version } = JSON.parse(e.data) as { version: string };
      if (last.current !== undefined && last.current !== version) router.refresh();
      last.current = version;
    });
    source.addEventListener("error", () =>
      setState(source.readyState === EventSource.CLOSED ? "lost" : "reconnecting"),
    );
    return () => source.close();
  }, [pullId, router]);
  return <span data-testid="pull-stream" data-state={state} hidden />;
}
