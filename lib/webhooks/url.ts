import { BlockList, isIP } from "node:net";
import { SamError } from "../errors";

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * Addresses a webhook may never reach: the web app POSTs to whatever an owner types, and these are
 * where clouds serve instance metadata and credentials (169.254.169.254, fd00:ec2::254) or
 * link-local neighbours are. Loopback and private networks stay allowed: self-hosters point
 * webhooks at services on their own machine or LAN.
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet("169.254.0.0", 16, "ipv4");
FORBIDDEN.addSubnet("fe80::", 10, "ipv6");
FORBIDDEN.addAddress("fd00:ec2::254", "ipv6");

function refused(message: string): SamError {
  return new SamError("invalid_input", message, { fields: [{ field: "url", message }] });
}

/** Whether an IP address (v4, v6, or v4-mapped v6) is one a webhook may not reach. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return FORBIDDEN.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** The address in a URL's hostname when it is an IP literal (`[::1]` unbracketed), else undefined. */
function literalAddress(hostname: string): string | undefined {
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : undefined;
}

/**
 * The one judgement of a webhook URL, at add time and again before every send: http or https, no
 * credentials, at most 2048 characters, not a link-local or cloud-metadata address (a host name is
 * checked again after DNS resolution, when it is sent to). Messages never repeat the URL: it is a
 * secret (Slack's and Discord's carry their token).
 */
export function judgeWebhookUrl(input: string): URL {
  const raw = input.trim();
  if (raw === "") throw refused("A webhook URL is required");
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    throw refused(`The webhook URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused("The webhook URL is not an absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw refused("The webhook URL must be http or https");
  if (url.username !== "" || url.password !== "") {
    throw refused("The webhook URL must not carry a user name or password");
  }
  if (url.hostname === "") throw refused("The webhook URL has no host");
  // The URL parser has already turned 2852039166, 0xa9.0xfe.0xa9.0xfe and the like into dotted form.
  const address = literalAddress(url.hostname);
  if (address && isForbiddenAddress(address)) {
    throw refused("The webhook URL points at a link-local or cloud-metadata address, which SAM does not post to");
  }
  return url;
}

/** What lists show of a webhook: its scheme and host, never its path or query (where tokens live). */
export function urlHintOf(url: URL): string {
  return `${url.protocol}//${url.host}/…`;
}
