import { randomUUID } from "node:crypto";

/** A new primary key: a random UUID. */
export function newId(): string {
  return randomUUID();
}
