import type { ReactNode } from "react";

/** The padded content of a page inside the project's main pane, under its heading. */
export function PageBody({ title, wide = false, children }: { title?: string; wide?: boolean; children: ReactNode }) {
  return (
    <div className={`mx-auto px-4 py-6 ${wide ? "max-w-none" : "max-w-5xl"}`}>
      {title ? <h1 className="mb-4 text-xl font-semibold tracking-tight">{title}</h1> : null}
      {children}
    </div>
  );
}
