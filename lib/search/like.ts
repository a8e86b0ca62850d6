/** Escapes `%`, `_` and `\` so what a user typed is matched as itself, never as a wildcard. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A LIKE pattern (with `ESCAPE '\'`) for text containing `q`, lower-cased for a lower() column. */
export function containsPattern(q: string): string {
  return `%${escapeLike(q.toLowerCase())}%`;
}

/** A LIKE pattern (with `ESCAPE '\'`) for text starting with `q`, lower-cased for a lower() column. */
export function prefixPattern(q: string): string {
  return `${escapeLike(q.toLowerCase())}%`;
}
