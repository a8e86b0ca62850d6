import { GeistMono } from "geist/font/mono";
import { GeistSans } from "geist/font/sans";
import type { Metadata } from "next";
import type { ReactNode } from "react";
import { SandboxBanner } from "@/components/layout/SandboxBanner";
import { getDb } from "@/db/client";
import { loadConfig } from "@/lib/config";
import { sandboxWarnings } from "@/lib/nodes/sandbox-warnings";
import "./globals.css";

export const metadata: Metadata = {
  title: "SAM",
  description: "Brainstorm with coding agents, capture ideas, dispatch tasks.",
};

// Every page depends on the signed-in user and the database; nothing is prerendered at build time.
export const dynamic = "force-dynamic";

export default async function RootLayout({ children }: { children: ReactNode }) {
  const warnings = await sandboxWarnings(getDb(), loadConfig().sandbox);
  return (
    <html lang="en" className={`${GeistSans.variable} ${GeistMono.variable}`}>
      {/* The viewport is the frame: pages scroll inside their own panes, the header never moves. */}
      <body className="flex h-dvh flex-col overflow-hidden bg-white font-sans text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">
        <SandboxBanner warnings={warnings} />
        <div className="min-h-0 flex-1 overflow-y-auto">{children}</div>
      </body>
    </html>
  );
}
