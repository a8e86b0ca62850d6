/**
 * The user data a cloud VM boots with: a #cloud-config that writes SAM's setup script and runs it.
 * The script installs what the daemon needs when missing (Node.js 20 or later, git, bubblewrap,
 * setpriv), fetches the daemon bundle from the web app and checks it against the SHA-256 written
 * into it, unpacks it and runs the daemon, which joins with the VM's one-use token. The token is
 * the only secret in it: spent by the join, expiring soon after.
 */
import { WEB_ROUTES } from "@sam/agent-daemon/contract";

/** Node.js installed where the image has none recent enough: pinned, from nodejs.org over HTTPS. */
const NODE_VERSION = "22.12.0";

export interface CloudInitInput {
  /** The web app as the VM reaches it. */
  webUrl: string;
  bundleSha256: string;
  joinToken: string;
  nodeName: string;
  capacity: number;
  labels: string[];
}

/** A value as one single-quoted shell word. */
function shellWord(value: string): string {
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/**
 * The setup script. Paths and the service manager can be overridden (SAM_SETUP_ROOT,
 * SAM_SETUP_NODE_DIR, SAM_SETUP_FOREGROUND=1), so that a test can run it as the VM would.
 */
export function setupScript(input: CloudInitInput): string {
  const bundleUrl = `${input.webUrl.replace(/\/+$/, "")}${WEB_ROUTES.bundle}`;
  return `#!/bin/sh
# SAM node setup for ${input.nodeName}, written by the SAM web app.
set -eu
WEB_URL=${shellWord(input.webUrl)}
BUNDLE_URL=${shellWord(bundleUrl)}
BUNDLE_SHA256=${shellWord(input.bundleSha256)}
JOIN_TOKEN=${shellWord(input.joinToken)}
NODE_NAME=${shellWord(input.nodeName)}
CAPACITY=${shellWord(String(input.capacity))}
LABELS=${shellWord(input.labels.join(","))}
ROOT="\${SAM_SETUP_ROOT:-/opt/sam}"
NODE_DIR="\${SAM_SETUP_NODE_DIR:-/var/lib/sam-node}"

log() { echo "sam-setup: $*" >&2; }

APT_UPDATED=
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    log "cannot install $*: this image has no apt-get; use a Debian or Ubuntu image"
    exit 1
  fi
  if [ -z "$APT_UPDATED" ]; then apt-get -o DPkg::Lock::Timeout=600 update -q; APT_UPDATED=1; fi
  # On first boot another apt (unattended upgrades) may hold the lock for a while.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$@"
}

node_ok() {
  command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]
}

if ! node_ok; then
  case "$(uname -m)" in
    x86_64) ARCH=x64 ;;
    aarch64) ARCH=arm64 ;;
    *) log "no Node.js for $(uname -m)"; exit 1 ;;
  esac
  log "installing Node.js ${NODE_VERSION}"
  command -v curl >/dev/null 2>&1 && command -v xz >/dev/null 2>&1 || apt_install ca-certificates curl xz-utils
  NODE_TAR="node-v${NODE_VERSION}-linux-$ARCH.tar.xz"
  TMP="$(mktemp -d)"
  curl -fsSL --retry 5 -o "$TMP/$NODE_TAR" "https://nodejs.org/dist/v${NODE_VERSION}/$NODE_TAR"
  curl -fsSL --retry 5 -o "$TMP/SHASUMS256.txt" "https://nodejs.org/dist/v${NODE_VERSION}/SHASUMS256.txt"
  (cd "$TMP" && grep " $NODE_TAR\\$" SHASUMS256.txt | sha256sum -c -)
  tar -xJf "$TMP/$NODE_TAR" -C /usr/local --strip-components=1
  rm -rf "$TMP"
fi
command -v git >/dev/null 2>&1 || apt_install git ca-certificates
command -v bwrap >/dev/null 2>&1 || apt_install bubblewrap
command -v setpriv >/dev/null 2>&1 || apt_install util-linux

# The daemon bundle, from the web app, checked against the hash SAM wrote here.
mkdir -p "$ROOT"
ARCHIVE="$ROOT/daemon.tar.gz"
ATTEMPT=0
until node --input-type=module - "$BUNDLE_URL" "$ARCHIVE" "$BUNDLE_SHA256" <<'NODE'
const [url, file, expected] = process.argv.slice(2);
const res = await fetch(url).catch((err) => { console.error(\`sam-setup: \${url}: \${err.message}\`); process.exit(1); });
if (!res.ok) { console.error(\`sam-setup: \${url}: HTTP \${res.status}\`); process.exit(1); }
const body = Buffer.from(await res.arrayBuffer());
const actual = (await import("node:crypto")).createHash("sha256").update(body).digest("hex");
if (actual !== expected) { console.error(\`sam-setup: the bundle's SHA-256 is \${actual}, not \${expected}\`); process.exit(3); }
(await import("node:fs")).writeFileSync(file, body);
NODE
do
  STATUS=$?
  [ "$STATUS" -eq 3 ] && exit 1
  ATTEMPT=$((ATTEMPT + 1))
  [ "$ATTEMPT" -ge 30 ] && { log "the daemon bundle could not be fetched"; exit 1; }
  sleep 2
done
rm -rf "$ROOT/daemon.new"
mkdir -p "$ROOT/daemon.new" "$NODE_DIR"
chmod 700 "$NODE_DIR"
tar -xzf "$ARCHIVE" -C "$ROOT/daemon.new" --strip-components=1
rm -rf "$ROOT/daemon"
mv "$ROOT/daemon.new" "$ROOT/daemon"
rm -f "$ARCHIVE"

# The token reaches the daemon in a file of its own (0600, deleted once spent), not on its command
# line, where \`ps\` and the service's unit file would show it.
[ -f "$NODE_DIR/node.json" ] || (umask 077 && printf '%s\\n' "$JOIN_TOKEN" > "$NODE_DIR/join-token")
set -- "$(command -v node)" "$ROOT/daemon/bin/sam-daemon.mjs" --join "$WEB_URL" --token-file "$NODE_DIR/join-token" \\
  --dir "$NODE_DIR" --name "$NODE_NAME" --capacity "$CAPACITY"
[ -n "$LABELS" ] && set -- "$@" --labels "$LABELS"

if [ -z "\${SAM_SETUP_FOREGROUND:-}" ] && [ -d /run/systemd/system ]; then
  {
    echo "[Unit]"
    echo "Description=SAM agent daemon"
    echo "After=network-online.target"
    echo "Wants=network-online.target"
    echo "[Service]"
    printf 'ExecStart='; printf '"%s" ' "$@"; echo
    # A node removed from SAM exits cleanly and stays down; a crash is restarted.
    echo "Restart=on-failure"
    echo "RestartSec=5"
    echo "KillMode=mixed"
    echo "TimeoutStopSec=40"
    echo "[Install]"
    echo "WantedBy=multi-user.target"
  } > /etc/systemd/system/sam-daemon.service
  chmod 600 /etc/systemd/system/sam-daemon.service
  systemctl daemon-reload
  systemctl enable --now sam-daemon.service
  log "the daemon runs as sam-daemon.service"
else
  log "no systemd: running the daemon in the foreground"
  exec "$@"
fi
`;
}

/** Where the setup script is written on the VM. */
export const SETUP_SCRIPT_PATH = "/opt/sam/setup.sh";

/**
 * The #cloud-config. Written as JSON, which YAML reads as it is: no YAML library, and a value can
 * never be mistaken for YAML syntax.
 */
export function cloudInitUserData(input: CloudInitInput): string {
  const config = {
    write_files: [{ path: SETUP_SCRIPT_PATH, permissions: "0700", owner: "root:root", content: setupScript(input) }],
    runcmd: [["/bin/sh", SETUP_SCRIPT_PATH]],
  };
  return `#cloud-config\n${JSON.stringify(config, null, 2)}\n`;
}

/** The setup script inside user data made by `cloudInitUserData` (what the VM would run). */
export function setupScriptOf(userData: string): string {
  const config = JSON.parse(userData.replace(/^#cloud-config\n/, "")) as {
    write_files: { path: string; content: string }[];
  };
  const file = config.write_files.find((f) => f.path === SETUP_SCRIPT_PATH);
  if (!file) throw new Error("the user data holds no setup script");
  return file.content;
}
