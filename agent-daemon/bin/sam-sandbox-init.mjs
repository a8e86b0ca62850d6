#!/usr/bin/env node
// Runs first inside a sandbox that has no network: listens on the sandbox's own loopback and
// forwards each connection to a Unix socket bound in from outside (the daemon's MCP bridge), then
// runs the agent with the same stdio and exits as it exits.
//
//   sam-sandbox-init --forward <port>=<socket path> -- <command> [args...]
import { spawn } from "node:child_process";
import net from "node:net";

const argv = process.argv.slice(2);
const split = argv.indexOf("--");
if (split < 0 || split === argv.length - 1) {
  console.error("usage: sam-sandbox-init [--forward <port>=<socket>]... -- <command> [args...]");
  process.exit(2);
}
const forwards = [];
for (let i = 0; i < split; i++) {
  const match = argv[i] === "--forward" ? /^(\d{1,5})=(\/.+)$/.exec(argv[i + 1] ?? "") : null;
  if (!match) {
    console.error(`sam-sandbox-init: bad argument ${JSON.stringify(argv[i])}`);
    process.exit(2);
  }
  forwards.push({ port: Number(match[1]), socket: match[2] });
  i++;
}

await Promise.all(
  forwards.map(
    ({ port, socket }) =>
      new Promise((resolve, reject) => {
        const server = net.createServer((inbound) => {
          const outbound = net.connect(socket);
          inbound.pipe(outbound).pipe(inbound);
          inbound.on("error", () => outbound.destroy());
          outbound.on("error", () => inbound.destroy());
        });
        server.once("error", reject);
        server.listen(port, "127.0.0.1", resolve);
        server.unref();
      }),
  ),
);

const [command, ...args] = argv.slice(split + 1);
const child = spawn(command, args, { stdio: "inherit" });
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("error", (err) => {
  console.error(`sam-sandbox-init: cannot run ${command}: ${err.message}`);
  process.exit(127);
});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
