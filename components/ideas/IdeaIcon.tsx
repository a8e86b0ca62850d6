/** A light bulb, the mark of an idea. */
export function IdeaIcon({ className = "h-4 w-4" }: { className?: string }) {
  return (
    <svg
      viewBox="0 0 16 16"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.5"
      aria-hidden="true"
      className={className}
    >
      <path d="M8 1.75a4.25 4.25 0 0 0-2.5 7.7V11h5V9.45A4.25 4.25 0 0 0 8 1.75z" strokeLinejoin="round" />
      <path d="M6 13.25h4M6.75 14.75h2.5" strokeLinecap="round" />
    </svg>
  );
}
