import { loadConfig } from "../config";
import { secretKey } from "../instance-secrets";

let cached: Buffer | undefined;

/** This instance's secret key (SAM_SECRET_KEY or the generated key file), read once. */
export function instanceSecretKey(): Buffer {
  if (!cached) {
    const config = loadConfig();
    cached = secretKey(config.dataDir, config.secretKey);
  }
  return cached;
}
