import Link from "next/link";
import { requireUser } from "@/app/current-user";
import { BrowserNotificationSettings } from "@/components/notifications/BrowserNotificationSettings";
import { NotificationPrefsGrid } from "@/components/notifications/NotificationPrefsGrid";
import { getDb } from "@/db/client";
import { getNotificationPrefs } from "@/lib/notifications/prefs";

/** What the person is told about, per project and kind, and whether this browser shows it too. */
export default async function NotificationPrefsPage() {
  const user = await requireUser();
  const prefs = await getNotificationPrefs(getDb(), user.id);
  return (
    <div className="max-w-3xl space-y-6">
      <div>
        <p className="text-sm">
          <Link href="/account" className="underline">
            Account
          </Link>
        </p>
        <h1 className="text-2xl font-semibold tracking-tight">Notifications</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          Choose what the bell tells you about, project by project. A kind turned off stops new notifications of it; the
          ones you have keep.
        </p>
      </div>
      <section className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
        <h2 className="font-medium">By project and kind</h2>
        <NotificationPrefsGrid kinds={prefs.kinds} projects={prefs.projects} />
      </section>
      <section className="space-y-2 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
        <h2 className="font-medium">In this browser</h2>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          While SAM is open, the browser can show a notification as it arrives: questions that need your answer always,
          the other kinds if you choose.
        </p>
        <BrowserNotificationSettings />
      </section>
    </div>
  );
}
