import fs from "node:fs";
import { Readable } from "node:stream";
import { handle } from "@/app/api/handle";
import { loadConfig } from "@/lib/config";
import { daemonBundle } from "@/lib/nodes/daemon-bundle";

export const dynamic = "force-dynamic";

/**
 * The agent daemon as one archive, for the machines SAM sets up (cloud VMs). Open to anyone: it is
 * the daemon's code and nothing else. Its SHA-256 is in `x-sam-bundle-sha256`, and in the setup
 * script that fetches it, which refuses any other.
 */
export async function GET() {
  return handle(async () => {
    const bundle = await daemonBundle(loadConfig().dataDir);
    const body = Readable.toWeb(fs.createReadStream(bundle.file)) as ReadableStream<Uint8Array>;
    return new Response(body, {
      headers: {
        "content-type": "application/gzip",
        "content-length": String(bundle.bytes),
        "content-disposition": 'attachment; filename="sam-daemon.tar.gz"',
        "x-sam-bundle-sha256": bundle.sha256,
        "cache-control": "no-store",
      },
    });
  });
}
