import type { Locator, Page } from "playwright-core";

/** The frame around every signed-in page: header, rail (or drawer), main pane, task panel, palette. */
export class AppShell {
  constructor(private readonly page: Page) {}

  header(): Locator {
    return this.page.getByTestId("app-header");
  }

  rail(): Locator {
    return this.page.getByTestId("project-rail");
  }

  /** The chat's transcript pane, which scrolls by itself. */
  transcript(): Locator {
    return this.page.getByTestId("chat-scroll");
  }

  /** The sidebar card of a root task. */
  taskGroup(taskId: string): Locator {
    return this.rail().locator(`[data-testid="task-group"][data-task-id="${taskId}"]`);
  }

  /** "Waiting on N subtasks" on a root task's sidebar card, while it waits for them. */
  taskGroupWaitingOn(taskId: string): Locator {
    return this.taskGroup(taskId).getByTestId("waiting-on");
  }

  /** The compact usage of a root task's whole tree on its sidebar card. */
  taskGroupUsage(taskId: string): Locator {
    return this.taskGroup(taskId).getByTestId("task-group-usage");
  }

  taskPanel(): Locator {
    return this.page.getByTestId("task-panel");
  }

  palette(): Locator {
    return this.page.getByTestId("command-palette");
  }

  /** Where an element is on screen, in CSS pixels. */
  async top(locator: Locator): Promise<number> {
    const box = await locator.boundingBox();
    if (!box) throw new Error("The element is not shown");
    return box.y;
  }

  /** How far the document itself is scrolled: the shell's panes scroll, the page never does. */
  documentScroll(): Promise<{ top: number; overflowX: number }> {
    return this.page.evaluate(() => {
      const doc = document.scrollingElement ?? document.documentElement;
      return { top: doc.scrollTop, overflowX: doc.scrollWidth - window.innerWidth };
    });
  }

  /** Scrolls the transcript pane to a fraction (0 top, 1 bottom) of its height; returns its scrollTop. */
  async scrollTranscript(fraction: number): Promise<number> {
    return this.transcript().evaluate((pane, at) => {
      pane.scrollTop = (pane.scrollHeight - pane.clientHeight) * at;
      return pane.scrollTop;
    }, fraction);
  }

  async openPalette(): Promise<void> {
    await this.page.keyboard.press("Control+K");
    await this.palette().waitFor();
  }

  /** Types into the palette and waits until the results are those of what was typed. */
  async search(text: string): Promise<Locator> {
    await this.palette().getByRole("combobox").fill(text);
    const list = this.palette().getByRole("listbox");
    await this.page.locator(`[role="listbox"][data-results-for="${text.replaceAll('"', '\\"')}"]`).waitFor();
    return list;
  }

  /**
   * Scrolls the transcript up until its first message is shown: a long one reveals earlier
   * messages each time the top is reached.
   */
  async scrollTranscriptToStart(firstText: string): Promise<void> {
    const first = this.page.getByText(firstText);
    for (let step = 0; step < 50 && !(await first.isVisible()); step++) {
      const before = await this.page.locator('[data-testid="chat-messages"] > li').count();
      await this.scrollTranscript(0);
      await this.page.waitForFunction(
        (count) => document.querySelectorAll('[data-testid="chat-messages"] > li').length > count,
        before,
      );
    }
    await this.scrollTranscript(0);
    await first.waitFor();
  }

  async newChat(): Promise<void> {
    await this.rail().getByTestId("new-chat").click();
  }

  /** Opens the rail as a drawer (phones). */
  async openDrawer(): Promise<void> {
    await this.header().getByRole("button", { name: "Open navigation" }).click();
    await this.page.locator('[data-testid="project-rail"][data-open="true"]').waitFor();
  }
}
