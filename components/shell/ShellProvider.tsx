"use client";

import { usePathname, useRouter } from "next/navigation";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";

interface ShellState {
  /** The rail as a drawer, on narrow screens. */
  drawerOpen: boolean;
  setDrawerOpen: (open: boolean) => void;
  paletteOpen: boolean;
  setPaletteOpen: (open: boolean) => void;
  /** The project the page belongs to, for `c` (new chat) and the palette's pages. */
  projectId?: string;
}

const ShellContext = createContext<ShellState | undefined>(undefined);

export function useShell(): ShellState {
  const state = useContext(ShellContext);
  if (!state) throw new Error("useShell outside ShellProvider");
  return state;
}

/** Typing in a field, or a shortcut with a modifier, is not a shortcut of ours. */
function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (!target) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function projectOf(pathname: string): string | undefined {
  return /^\/projects\/([^/]+)/.exec(pathname)?.[1];
}

/**
 * The shell's open panels and its keyboard: Ctrl/⌘-K the palette, `c` a new chat, `/` the session
 * search, Esc closes whatever is open (the palette, then the drawer, then the task panel).
 */
export function ShellProvider({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  const router = useRouter();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [paletteOpen, setPaletteOpen] = useState(false);
  const projectId = projectOf(pathname);

  // Moving to another page closes the drawer it was chosen from.
  const [drawerPath, setDrawerPath] = useState(pathname);
  if (drawerPath !== pathname) {
    setDrawerPath(pathname);
    setDrawerOpen(false);
  }

  const onKey = useCallback(
    (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
        event.preventDefault();
        setPaletteOpen((open) => !open);
        return;
      }
      if (event.key === "Escape") {
        if (paletteOpen) setPaletteOpen(false);
        else if (drawerOpen) setDrawerOpen(false);
        else document.dispatchEvent(new CustomEvent("sam:close-panel"));
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event) || paletteOpen) return;
      if (event.key === "c" && projectId) {
        event.preventDefault();
        router.push(`/projects/${projectId}`);
      } else if (event.key === "/") {
        const search = document.querySelector<HTMLInputElement>("[data-shell-search]");
        if (search) {
          event.preventDefault();
          if (search.offsetParent === null) setDrawerOpen(true);
          requestAnimationFrame(() => search.focus());
        }
      }
    },
    [paletteOpen, drawerOpen, projectId, router],
  );

  useEffect(() => {
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onKey]);

  const value = useMemo(
    () => ({ drawerOpen, setDrawerOpen, paletteOpen, setPaletteOpen, projectId }),
    [drawerOpen, paletteOpen, projectId],
  );
  return <ShellContext.Provider value={value}>{children}</ShellContext.Provider>;
}
