/** A repository on GitHub (github.com or a GitHub Enterprise Server) and where its REST API is. */
export interface GitHubRepository {
  owner: string;
  name: string;
  /** owner/name, as GitHub and its messages write it. */
  fullName: string;
  /** The REST API's base URL: https://api.github.com, or <server>/api/v3 on GitHub Enterprise. */
  apiUrl: string;
}

const GITHUB_COM = "github.com";
const GITHUB_COM_API = "https://api.github.com";
// owner/name, optionally with .git and a trailing slash; GitHub's names are letters, digits, - _ .
const REPO_PATH = /^\/?([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/;
// user@host:owner/name (git's scp-like form)
const SCP_LIKE = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+)$/;

/** The host and path of a remote, whatever its form (https, ssh://, scp-like); undefined for a local path. */
function hostAndPath(repo: string): { host: string; hostname: string; scheme: string; path: string } | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) {
    if (!URL.canParse(repo)) return undefined;
    const url = new URL(repo);
    return {
      host: url.host.toLowerCase(),
      hostname: url.hostname.toLowerCase(),
      scheme: url.protocol,
      path: url.pathname,
    };
  }
  const scp = SCP_LIKE.exec(repo);
  if (!scp?.[1] || !scp[2]) return undefined;
  const hostname = scp[1].toLowerCase();
  return { host: hostname, hostname, scheme: "ssh:", path: scp[2] };
}

/**
 * The GitHub repository a project's remote is, or undefined when it is not on GitHub: github.com in
 * any of git's URL forms, or the project's GitHub Enterprise Server (`githubUrl`), whose web host
 * serves git over http(s) and whose SSH host is the same machine.
 */
export function githubRepository(project: {
  repo: string;
  repoKind: "local" | "remote";
  githubUrl: string | null;
}): GitHubRepository | undefined {
  if (project.repoKind !== "remote") return undefined;
  const remote = hostAndPath(project.repo);
  if (!remote) return undefined;
  const match = REPO_PATH.exec(remote.path);
  if (!match?.[1] || !match[2]) return undefined;
  const [owner, name] = [match[1], match[2]];
  const repository = (apiUrl: string) => ({ owner, name, fullName: `${owner}/${name}`, apiUrl });
  const web = project.githubUrl && URL.canParse(project.githubUrl) ? new URL(project.githubUrl) : undefined;
  if (web) {
    const sameServer = remote.scheme.startsWith("http")
      ? remote.host === web.host.toLowerCase()
      : remote.hostname === web.hostname.toLowerCase();
    if (sameServer) return repository(`${web.origin}${web.pathname.replace(/\/+$/, "")}/api/v3`);
  }
  if (remote.hostname === GITHUB_COM || remote.hostname === `www.${GITHUB_COM}`) return repository(GITHUB_COM_API);
  return undefined;
}
