/**
 * `npx tsx scripts/sqld-key.ts <dir>`: makes the key pair a self-hosted sqld authenticates clients
 * with. Writes <dir>/jwt-public.key (for `sqld --auth-jwt-key-file`) and <dir>/jwt-private.pem
 * (0600, mints more tokens), and prints a token for DATABASE_AUTH_TOKEN.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { makeSqldKeyPair, signSqldToken } from "@/db/sqld-auth";

const argsSchema = z.tuple([z.string().min(1, "the directory to write the keys to")]);

function main() {
  const parsed = argsSchema.safeParse(process.argv.slice(2));
  if (!parsed.success) {
    process.stderr.write("Usage: npx tsx scripts/sqld-key.ts <dir>\n");
    process.exit(2);
  }
  const dir = path.resolve(parsed.data[0]);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const publicFile = path.join(dir, "jwt-public.key");
  const privateFile = path.join(dir, "jwt-private.pem");
  if (fs.existsSync(privateFile)) {
    process.stderr.write(`${privateFile} exists already; remove it to make a new key pair\n`);
    process.exit(1);
  }
  const keys = makeSqldKeyPair();
  fs.writeFileSync(privateFile, keys.privateKeyPem, { mode: 0o600, flag: "wx" });
  fs.writeFileSync(publicFile, `${keys.publicKey}\n`, { mode: 0o644 });
  process.stdout.write(
    `sqld --auth-jwt-key-file ${publicFile} ...\nDATABASE_AUTH_TOKEN=${signSqldToken(keys.privateKeyPem)}\n`,
  );
}

main();
