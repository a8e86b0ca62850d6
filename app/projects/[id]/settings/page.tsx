import { requireUser } from "@/app/current-user";
import { ActionButton } from "@/components/forms/ActionButton";
import { CloudPanel } from "@/components/nodes/CloudPanel";
import { MembersPanel } from "@/components/projects/MembersPanel";
import { SecretsPanel } from "@/components/projects/SecretsPanel";
import { SettingsForm } from "@/components/projects/SettingsForm";
import { PageBody } from "@/components/shell/PageBody";
import { getDb } from "@/db/client";
import { MODEL_PROVIDERS, PROVIDERS } from "@/lib/models/providers";
import { getCloudSettings } from "@/lib/nodes/cloud/settings";
import { listInvitations } from "@/lib/projects/invitations";
import { listMembers } from "@/lib/projects/projects";
import { HARNESSES } from "@/lib/projects/settings";
import { listSecrets } from "@/lib/secrets/store";
import { loadProjectOr404 } from "../../load-project";
import {
  deleteSecretAction,
  inviteAction,
  removeMemberAction,
  setArchivedAction,
  setSecretAction,
  updateSettingsAction,
  withdrawInvitationAction,
} from "./actions";
import { WebhooksSection } from "./webhooks-section";

/** The provider picker's choices: the offline model first, then each provider with its key secret. */
const PROVIDER_CHOICES = [
  { value: "scripted", label: "Scripted (offline, plays a prompt's sam-script)" },
  ...MODEL_PROVIDERS.map((p) => ({
    value: p,
    label: PROVIDERS[p].label + (PROVIDERS[p].takesBaseUrl ? " (Ollama, vLLM…)" : ""),
    keySecret: PROVIDERS[p].keySecret,
    exampleBaseUrl: PROVIDERS[p].exampleBaseUrl,
    takesBaseUrl: PROVIDERS[p].takesBaseUrl,
  })),
];

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <h2 className="mb-4 font-medium">{title}</h2>
      {children}
    </section>
  );
}

export default async function ProjectSettingsPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const project = await loadProjectOr404(user.id, (await params).id);
  const db = getDb();
  const [members, invitations, secrets, cloud] = await Promise.all([
    listMembers(db, user.id, project.id),
    listInvitations(db, user.id, project.id),
    listSecrets(db, user.id, project.id),
    getCloudSettings(db, user.id, { projectId: project.id }),
  ]);
  const canEdit = project.role === "owner";
  return (
    <PageBody title="Settings">
      <div className="space-y-6">
        <Section title="Limits and agent">
          <SettingsForm
            projectId={project.id}
            values={project}
            harnesses={HARNESSES}
            providers={PROVIDER_CHOICES}
            canEdit={canEdit}
            save={updateSettingsAction.bind(null, project.id)}
          />
        </Section>
        <Section title="Secrets">
          <SecretsPanel
            canEdit={canEdit}
            save={setSecretAction.bind(null, project.id)}
            secrets={secrets.map((s) => ({ ...s, deleteAction: deleteSecretAction.bind(null, project.id, s.name) }))}
          />
        </Section>
        <Section title="Cloud VMs">
          <CloudPanel
            scope="project"
            endpoint={`/api/projects/${project.id}/cloud`}
            initial={cloud ?? null}
            canEdit={canEdit}
          />
        </Section>
        <Section title="Webhooks">
          <WebhooksSection projectId={project.id} userId={user.id} canEdit={canEdit} />
        </Section>
        <Section title="Members">
          <MembersPanel
            canEdit={canEdit}
            invite={inviteAction.bind(null, project.id)}
            members={members.map((m) => ({
              userId: m.userId,
              label: m.email ?? (m.githubLogin ? `@${m.githubLogin}` : (m.name ?? m.userId)),
              role: m.role,
              removeAction: removeMemberAction.bind(null, project.id, m.userId),
            }))}
            invitations={invitations.map((i) => ({
              id: i.id,
              label: i.inviteeKind === "github" ? `@${i.invitee}` : i.invitee,
              role: i.role,
              expires: i.expiresAt.toISOString().slice(0, 10),
              withdrawAction: withdrawInvitationAction.bind(null, project.id, i.id),
            }))}
          />
        </Section>
        {canEdit ? (
          <Section title={project.archivedAt ? "Restore" : "Archive"}>
            <ActionButton
              action={setArchivedAction.bind(null, project.id, !project.archivedAt)}
              label={project.archivedAt ? "Restore project" : "Archive project"}
              danger={!project.archivedAt}
            />
          </Section>
        ) : null}
      </div>
    </PageBody>
  );
}
