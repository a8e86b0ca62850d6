import type { ReactNode } from "react";

/** The scrolling main pane of a page without a rail (the project list, the account). */
export function PageMain({ children, wide = false }: { children: ReactNode; wide?: boolean }) {
  return (
    <main id="main" className="min-w-0 flex-1 overflow-y-auto">
      <div className={`mx-auto px-4 py-6 ${wide ? "max-w-7xl" : "max-w-5xl"}`}>{children}</div>
    </main>
  );
}
