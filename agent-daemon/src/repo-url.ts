import path from "node:path";

const URL_SCHEMES = new Set(["file:", "https:", "http:", "ssh:"]);
// scp-like syntax, `user@host:path`. The user part is required: a bare `word::...` is git's
// transport-helper syntax (`ext::sh -c ...`), which must never reach git.
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)\S+$/;

const SUPPORTED_REPOS = "an absolute local path, file://, https://, http://, ssh:// or user@host:path";

/**
 * Why a project repository location is refused, or undefined when git may be pointed at it. Only the
 * forms a project can legitimately use are accepted; anything else (other schemes, relative paths,
 * strings that git would read as an option) is refused before git sees it.
 */
export function unsupportedRepoReason(repo: string): string | undefined {
  if (repo !== repo.trim() || /[\0\n\r]/.test(repo))
    return "must not contain surrounding whitespace or control characters";
  if (path.isAbsolute(repo)) return undefined;
  if (SCP_LIKE.test(repo)) return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(repo)?.[1];
  if (scheme && repo.startsWith(`${scheme}://`)) {
    if (URL_SCHEMES.has(`${scheme.toLowerCase()}:`) && URL.canParse(repo)) return undefined;
    return `unsupported scheme ${scheme}:// (use ${SUPPORTED_REPOS})`;
  }
  return `not a supported repository location (use ${SUPPORTED_REPOS})`;
}
