import type { Page } from "playwright-core";

/** /account/notifications: which kinds each project notifies the person of. */
export class NotificationPrefsPage {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/account/notifications`);
    await this.page.getByRole("table", { name: "Notifications by project and kind" }).waitFor();
  }

  private toggle(kindLabel: string, projectName: string) {
    return this.page.getByRole("checkbox", { name: `${kindLabel} from ${projectName}`, exact: true });
  }

  async isOn(kindLabel: string, projectName: string): Promise<boolean> {
    return this.toggle(kindLabel, projectName).isChecked();
  }

  /** Switches one kind for one project and waits until it is saved. */
  async set(kindLabel: string, projectName: string, on: boolean): Promise<void> {
    await this.toggle(kindLabel, projectName).setChecked(on);
    await this.page
      .getByTestId("prefs-status")
      .filter({ hasText: `${kindLabel} from ${projectName}: ${on ? "on" : "off"}.` })
      .waitFor();
  }
}
