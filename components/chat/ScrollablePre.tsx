import type { ComponentProps } from "react";

/**
 * Preformatted text that may scroll (code, tool output). It is a named region in the tab order, so
 * keyboard users can scroll it too.
 */
export function ScrollablePre({ label, ...props }: ComponentProps<"pre"> & { label: string }) {
  // biome-ignore lint/a11y/noNoninteractiveTabindex lint/a11y/useSemanticElements: a scrolling <pre> must take focus to be scrolled by keyboard (WCAG 2.1.1), and a named region is what it is
  return <pre role="region" aria-label={label} tabIndex={0} {...props} />;
}
