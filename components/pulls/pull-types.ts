import type { FileDiff } from "@/lib/pulls/diff";
import type { PullDetail } from "@/lib/pulls/pull-json";

/** A comment as the PR page shows it (`sam pr show --json`'s comments). */
export type PullComment = PullDetail["comments"][number];

/** One changed file's diff, as the page receives it. */
export type { FileDiff };

/** A line comment's place: a file of the PR and a line of its new version. */
export interface LinePlace {
  path: string;
  line: number;
}
