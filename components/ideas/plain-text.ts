/**
 * Markdown as the plain text a card previews: no fences, heading or list marks, emphasis, link
 * targets or tags, lines joined. The text may be cut anywhere (a card gets the first few hundred
 * characters), so an unclosed fence or emphasis is handled like a closed one.
 */
export function markdownToPlainText(markdown: string): string {
  const lines = markdown.split(/\r?\n/).flatMap((line) => {
    if (/^\s*(`{3,}|~{3,})/.test(line)) return [];
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) return [];
    if (/^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line)) return [];
    return [
      line
        .replace(/^\s{0,3}#{1,6}\s+/, "")
        .replace(/^\s*(>\s?)+/, "")
        .replace(/^\s*([-*+]|\d+[.)])\s+(\[[ xX]\]\s+)?/, "")
        .replace(/\s*\|\s*/g, " ")
        .trim(),
    ];
  });
  return lines
    .join(" ")
    .replace(/!\[([^\]]*)\]\([^)]*\)?/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)?/g, "$1")
    .replace(/<(https?:[^>\s]+)>/g, "$1")
    .replace(/<\/?[A-Za-z][^>]*>/g, "")
    .replace(/`+/g, "")
    .replace(/(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1/g, "$2")
    .replace(/(^|[^\w*])[*_](?=\S)(.+?)(?<=\S)[*_](?=[^\w*]|$)/g, "$1$2")
    .replace(/\*\*|~~/g, "")
    .replace(/\s+/g, " ")
    .trim();
}
