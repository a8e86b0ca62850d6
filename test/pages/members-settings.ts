import type { Page } from "playwright-core";

/** The Members section of a project's settings page. */
export class MembersSettings {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(projectId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${projectId}/settings`);
  }

  /** Invites by email or GitHub login; resolves with the confirmation or the error shown. */
  async invite(who: string, role: "member" | "owner" = "member"): Promise<string> {
    const form = this.page.getByRole("form", { name: "Invite" });
    await form.getByLabel("Email or GitHub login").fill(who);
    await form.getByLabel("Role").selectOption(role);
    await form.getByRole("button", { name: "Invite" }).click();
    const outcome = form.getByRole("status").or(form.getByRole("alert"));
    await outcome.first().waitFor();
    return (await outcome.first().textContent()) ?? "";
  }

  /** What the invite form's fields hold now. */
  async values(): Promise<{ invitee: string; role: string }> {
    const form = this.page.getByRole("form", { name: "Invite" });
    return {
      invitee: await form.getByLabel("Email or GitHub login").inputValue(),
      role: await form.getByLabel("Role").inputValue(),
    };
  }

  /** Every error the invite form shows, field messages and banner alike. */
  alerts(): Promise<string[]> {
    return this.page.getByRole("form", { name: "Invite" }).getByRole("alert").allTextContents();
  }

  async invitations(): Promise<string[]> {
    const list = this.page.getByRole("list", { name: "Invitations" });
    if ((await list.count()) === 0) return [];
    return list.getByRole("listitem").allTextContents();
  }
}
