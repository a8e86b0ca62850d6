import type { Locator, Page } from "playwright-core";

/** A project's ideas board: columns of cards, the new-idea form, the drag announcements. */
export class IdeaBoard {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(projectId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${projectId}/ideas`);
    await this.page.locator('[data-testid="board-stream"][data-state="live"]').waitFor();
  }

  column(status: string): Locator {
    return this.page.getByTestId(`column-${status}`);
  }

  card(title: string, status?: string): Locator {
    return (status ? this.column(status) : this.page).getByTestId("idea-card").filter({ hasText: title });
  }

  /** The plain-text preview of a card's content. */
  async preview(title: string): Promise<string> {
    return (await this.card(title).getByTestId("idea-preview").textContent()) ?? "";
  }

  /** Opens the new-idea form, fills it and submits it. */
  async addIdea(title: string, details = ""): Promise<Locator> {
    await this.page.getByRole("button", { name: "+ New idea" }).click();
    const form = this.newIdeaForm();
    await form.getByLabel("Title").fill(title);
    await form.getByLabel(/^Details/).fill(details);
    await form.getByRole("button", { name: "Add idea" }).click();
    return form;
  }

  newIdeaForm(): Locator {
    return this.page.getByRole("form", { name: "New idea" });
  }

  /** Drags with the mouse from `from` onto `to`, in small steps as a person would. */
  async drag(from: Locator, to: Locator): Promise<void> {
    const a = await from.boundingBox();
    const b = await to.boundingBox();
    if (!a || !b) throw new Error("Drag source or target is not shown");
    await this.page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await this.page.mouse.down();
    await this.page.mouse.move(a.x + a.width / 2 + 8, a.y + a.height / 2 + 8, { steps: 4 });
    await this.page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 20 });
    await this.page.mouse.move(b.x + b.width / 2, b.y + b.height / 2 + 1, { steps: 2 });
    await this.page.mouse.up();
  }

  /** The grip that picks a card up with the keyboard. */
  grip(title: string): Locator {
    return this.page.getByRole("button", { name: `Drag ${title}` });
  }

  /** What the board last told screen readers about a drag (a live region, not shown on screen). */
  announcement(): Locator {
    return this.page.locator('[id^="DndLiveRegion"]');
  }

  /** Waits until the board tells screen readers `text`. */
  async announced(text: string | RegExp): Promise<void> {
    await this.announcement().filter({ hasText: text }).waitFor({ state: "attached" });
  }

  /** The strip of columns, which scrolls sideways by itself. */
  columns(): Locator {
    return this.page.getByTestId("idea-columns");
  }
}
