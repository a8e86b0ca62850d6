import { EventEmitter } from "node:events";
import type { TaskStatus } from "@/db/schema";

/**
 * In-process notifications that let this process react at once (start a queued task, wake a
 * stream). They are hints only: every consumer also finds the same facts in the database, so other
 * instances and restarts lose nothing.
 */
const globalForBus = globalThis as unknown as { __samBus?: EventEmitter };
globalForBus.__samBus ??= new EventEmitter().setMaxListeners(0);
const bus = globalForBus.__samBus;

export interface TaskChanged {
  /** Absent when the change frees capacity rather than concerning one task. */
  taskId?: string;
  status?: TaskStatus;
}

export function emitTaskChanged(change: TaskChanged): void {
  bus.emit("task", change);
}

export function onTaskChanged(listener: (change: TaskChanged) => void): () => void {
  bus.on("task", listener);
  return () => bus.off("task", listener);
}

export interface IdeasChanged {
  projectId: string;
}

/** A project's ideas changed (created, linked, moved, edited, executed): wakes its open boards. */
export function emitIdeasChanged(change: IdeasChanged): void {
  bus.emit("ideas", change);
}

export function onIdeasChanged(listener: (change: IdeasChanged) => void): () => void {
  bus.on("ideas", listener);
  return () => bus.off("ideas", listener);
}

export interface PullChanged {
  projectId: string;
  pullRequestId: string;
}

/** A pull request was opened, updated (new commits, comments), merged or closed. */
export function emitPullChanged(change: PullChanged): void {
  bus.emit("pull", change);
}

export function onPullChanged(listener: (change: PullChanged) => void): () => void {
  bus.on("pull", listener);
  return () => bus.off("pull", listener);
}

export interface NotificationsChanged {
  projectId: string;
  /** The people whose notifications changed (a new one, or one updated and unread again). */
  userIds: string[];
  /** The notification event created or updated. */
  seq: number;
}

/** People got a notification, or one of theirs was updated: wakes their bells and the webhook runner. */
export function emitNotificationsChanged(change: NotificationsChanged): void {
  bus.emit("notifications", change);
}

export function onNotificationsChanged(listener: (change: NotificationsChanged) => void): () => void {
  bus.on("notifications", listener);
  return () => bus.off("notifications", listener);
}
