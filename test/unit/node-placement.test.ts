import { describe, expect, it } from "vitest";
import { costSoFar } from "@/lib/nodes/list";
import { pickNode } from "@/lib/scheduler/tick";

const node = (id: string, over: Partial<Parameters<typeof pickNode>[0][number]> = {}) => ({
  id,
  status: "ready",
  capacity: 2,
  load: 0,
  labels: [] as string[],
  ...over,
});

describe("pickNode: where a task goes", () => {
  it("only a node with every required label and a free place", () => {
    const loads = [
      node("a", { labels: ["gpu"] }),
      node("b", { labels: ["gpu", "eu"], load: 2 }),
      node("c", { labels: ["eu", "gpu"] }),
    ];
    expect(pickNode(loads, ["gpu", "eu"])?.id).toBe("c");
    expect(pickNode(loads, ["arm64"])).toBeUndefined();
    expect(pickNode([node("full", { load: 2 })], [])).toBeUndefined();
  });

  it("a warm node first, then the least loaded", () => {
    expect(
      pickNode([node("busy", { load: 1, capacity: 4 }), node("warm", { status: "warm", capacity: 4 })], [])?.id,
    ).toBe("warm");
    expect(pickNode([node("two", { load: 2, capacity: 4 }), node("one", { load: 1, capacity: 4 })], [])?.id).toBe(
      "one",
    );
  });
});

describe("costSoFar: a cloud VM's cost, every started hour billed whole", () => {
  const createdAt = new Date("2026-01-01T00:00:00Z");
  const at = (minutes: number) => new Date(createdAt.getTime() + minutes * 60_000);
  const vm = { pricePerHour: 0.5, currency: "EUR", createdAt, destroyedAt: null };

  it("counts a started hour whole, and stops counting when the VM is deleted", () => {
    expect(costSoFar(vm, at(1))?.amount).toBe(0.5);
    expect(costSoFar(vm, at(60))?.amount).toBe(0.5);
    expect(costSoFar(vm, at(61))?.amount).toBe(1);
    expect(costSoFar({ ...vm, destroyedAt: at(150) }, at(10_000))).toEqual({
      amount: 1.5,
      currency: "EUR",
      since: createdAt.toISOString(),
    });
  });

  it("is none for a node without a price (local and joined nodes)", () => {
    expect(costSoFar({ ...vm, pricePerHour: null, currency: null }, at(30))).toBeNull();
  });
});
