import type { Locator, Page } from "playwright-core";

/** The task graph: a card per task, solid subtask links, dashed dependency links, kept live by the project's stream. */
export class TaskGraphPage {
  constructor(
    readonly page: Page,
    private readonly baseUrl: string,
    private readonly projectId: string,
  ) {}

  /** Opens the graph of the tree `taskId` belongs to and waits until every card is laid out and the stream is live. */
  async open(taskId: string, timeout = 30_000): Promise<void> {
    await this.page.goto(`${this.baseUrl}/projects/${this.projectId}/tasks/${taskId}/graph`);
    await this.graph.and(this.page.locator('[data-ready="true"][data-stream-state="live"]')).waitFor({ timeout });
  }

  get graph(): Locator {
    return this.page.getByTestId("task-graph");
  }

  get nodes(): Locator {
    return this.graph.getByTestId("graph-node");
  }

  node(taskId: string): Locator {
    return this.graph.locator(`[data-testid="graph-node"][data-task-id="${taskId}"]`);
  }

  /** Waits (live, without reloading) until the task's card shows `status`. */
  async waitForStatus(taskId: string, status: string, timeout = 60_000): Promise<void> {
    await this.graph.locator(`[data-testid="graph-node"][data-task-id="${taskId}"][data-status="${status}"]`).waitFor({
      timeout,
    });
  }

  /** The card's background colour as drawn. */
  async colourOf(taskId: string): Promise<string> {
    return this.node(taskId).evaluate((el) => getComputedStyle(el).backgroundColor);
  }

  /** Links from a parent to its subtasks. */
  get subtaskLinks(): Locator {
    return this.graph.locator(".react-flow__edge.graph-edge-parent");
  }

  /** Links from a task to those waiting on it (blocking ones included). */
  get dependencyLinks(): Locator {
    return this.graph.locator(".react-flow__edge.graph-edge-dependency");
  }

  /** Dependency links whose dependency has not completed. */
  get blockingLinks(): Locator {
    return this.graph.locator(".react-flow__edge.graph-edge-blocking");
  }

  /** How a link is drawn: its colour, dashes, width and length (px). */
  async strokeOf(link: Locator): Promise<{ colour: string; dashes: string; width: string; length: number }> {
    return link.locator("path.react-flow__edge-path").evaluate((path) => {
      const style = getComputedStyle(path);
      const length = (path as SVGPathElement).getTotalLength();
      return { colour: style.stroke, dashes: style.strokeDasharray, width: style.strokeWidth, length };
    });
  }

  /** Where React Flow placed each card (its transform), for every card in the DOM. */
  async placements(): Promise<string[]> {
    return this.graph
      .locator(".react-flow__node")
      .evaluateAll((cards) => cards.map((card) => (card as HTMLElement).style.transform));
  }

  /** How far the document scrolls sideways (0: it does not). */
  async horizontalOverflow(): Promise<number> {
    return this.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  }
}
