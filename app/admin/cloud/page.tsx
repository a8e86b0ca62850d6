import { requireUser } from "@/app/current-user";
import { CloudPanel } from "@/components/nodes/CloudPanel";
import { getDb } from "@/db/client";
import { getCloudSettings } from "@/lib/nodes/cloud/settings";

/** The instance's cloud settings: VMs for every project without settings of its own; the admin edits them. */
export default async function CloudSettingsPage() {
  const user = await requireUser();
  const settings = await getCloudSettings(getDb(), user.id, "instance");
  return (
    <div className="max-w-4xl space-y-6">
      <h1 className="text-2xl font-semibold tracking-tight">Cloud VMs</h1>
      <CloudPanel scope="instance" endpoint="/api/cloud" initial={settings ?? null} canEdit={user.isInstanceOwner} />
      {user.isInstanceOwner ? null : (
        <p role="note" className="text-sm text-zinc-600 dark:text-zinc-400">
          Only the instance admin can change these settings.
        </p>
      )}
    </div>
  );
}
