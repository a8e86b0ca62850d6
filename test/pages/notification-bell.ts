import type { Locator, Page } from "playwright-core";

/** The header's notification bell and its list, as a person uses them. */
export class NotificationBellUi {
  constructor(private readonly page: Page) {}

  bell(): Locator {
    return this.page.getByTestId("notification-bell");
  }

  list(): Locator {
    return this.page.getByTestId("notification-list");
  }

  /** The number on the bell; 0 when it shows none. */
  async count(): Promise<number> {
    const badge = this.bell().getByTestId("unread-count");
    return (await badge.count()) === 0 ? 0 : Number(await badge.textContent());
  }

  /** Waits until the bell shows `n` (0: no number at all), and its label says so. */
  async waitForCount(n: number, timeout = 30_000): Promise<void> {
    const name = n === 0 ? "Notifications" : `Notifications, ${n} unread`;
    await this.page.getByRole("button", { name, exact: true }).waitFor({ timeout });
  }

  /** When (epoch ms, the page's clock) the bell first shows `n`: watched from now on, in the page. */
  whenCountShows(n: number): Promise<number> {
    const label = `Notifications, ${n} unread`;
    return this.bell().evaluate(
      (bell, label) =>
        new Promise<number>((resolve) => {
          const observer = new MutationObserver(() => {
            if (bell.getAttribute("aria-label") !== label) return;
            observer.disconnect();
            resolve(Date.now());
          });
          observer.observe(bell, { attributes: true, attributeFilter: ["aria-label"] });
        }),
      label,
    );
  }

  async open(): Promise<Locator> {
    if ((await this.bell().getAttribute("aria-expanded")) !== "true") await this.bell().click();
    await this.list().waitFor();
    // Loaded: an item or the empty line in place of "Loading…".
    await this.list().getByText("Loading…").waitFor({ state: "detached" });
    return this.list();
  }

  /** The items of the open list, top first: title and whether it is unread. */
  async items(): Promise<{ title: string; unread: boolean }[]> {
    const items = this.list().getByTestId("notification-item");
    const out: { title: string; unread: boolean }[] = [];
    for (const item of await items.all()) {
      const title = (await item.getByTestId("notification-title").textContent()) ?? "";
      out.push({ title: title.replace(/^Unread: /, ""), unread: (await item.getAttribute("data-unread")) === "true" });
    }
    return out;
  }

  item(title: string): Locator {
    return this.list().getByTestId("notification-item").filter({ hasText: title });
  }

  /** Clicks an unread notification (which opens its task) and waits for the server to have marked it read. */
  async openItem(title: string): Promise<void> {
    const saved = this.page.waitForResponse((r) => r.url().endsWith("/api/notifications/read") && r.ok());
    await this.item(title).getByRole("link").click();
    await saved;
  }

  /** Clicks "Mark all read" and waits for the server to have taken it. */
  async markAllRead(): Promise<void> {
    const saved = this.page.waitForResponse((r) => r.url().endsWith("/api/notifications/read") && r.ok());
    await this.list().getByRole("button", { name: "Mark all read" }).click();
    await saved;
  }

  async enableBrowserNotifications(): Promise<void> {
    await this.list().getByRole("button", { name: "Show browser notifications" }).click();
  }

  /** Turns on browser notifications for every kind (by default only questions show). */
  async showEveryKindInBrowser(): Promise<void> {
    await this.list()
      .getByRole("checkbox", { name: /every kind/ })
      .check();
  }
}
