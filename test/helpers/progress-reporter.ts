/**
 * A separate process that reports a task's progress `count` times at once into a database file, so
 * that tests race several processes (each with its own connection) against notifyProgress.
 * Usage: tsx test/helpers/progress-reporter.ts <db file> <project id> <task id> <label> <count> <start at ms>
 * All start at the same moment (`start at`, epoch ms), whenever each process got ready. Prints the
 * results as one JSON line.
 */
import { openDb } from "@/db/client";
import { notifyProgress } from "@/lib/notifications/notify";

const [file, projectId, taskId, label, count, startAt] = process.argv.slice(2);
const db = openDb({ url: `file:${file}` });
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const results = await Promise.all(
  Array.from({ length: Number(count) }, (_, i) =>
    notifyProgress(db, { projectId: projectId!, taskId: taskId!, title: "progress", body: `${label} ${i + 1}` }),
  ),
);
db.$client.close();
console.log(JSON.stringify(results));
