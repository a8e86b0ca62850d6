import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HetznerApi, HetznerApiError } from "@/lib/nodes/cloud/hetzner-api";
import { type HetznerFixture, startHetznerFixture } from "../helpers/hetzner-fixture";

let fixture: HetznerFixture;
let api: HetznerApi;

beforeAll(async () => {
  fixture = await startHetznerFixture();
  api = new HetznerApi(fixture.token, fixture.url);
});
afterAll(async () => {
  expect(fixture.violations).toEqual([]);
  await fixture.stop();
});

const vm = (name: string) => ({
  name,
  serverType: "cx22",
  image: "debian-12",
  location: "fsn1",
  userData: "#cloud-config\n{}\n",
  labels: { "sam-managed": "true", "sam-settings": "s1" },
});

describe("the Hetzner Cloud client, against a stand-in that checks requests against the API description", () => {
  it("creates, finds by label, reads and deletes a server with the documented requests", async () => {
    const server = await api.createServer(vm("sam-abc12345"));
    expect(server).toMatchObject({ name: "sam-abc12345", labels: { "sam-settings": "s1" } });
    const create = fixture.requests.find((r) => r.method === "POST");
    expect(create?.body).toEqual({
      name: "sam-abc12345",
      server_type: "cx22",
      image: "debian-12",
      location: "fsn1",
      user_data: "#cloud-config\n{}\n",
      labels: { "sam-managed": "true", "sam-settings": "s1" },
      start_after_create: true,
    });
    expect((await api.listServers("sam-settings=s1")).map((s) => s.id)).toEqual([server.id]);
    expect(await api.listServers("sam-settings=other")).toEqual([]);
    expect((await api.getServer(server.id))?.name).toBe("sam-abc12345");
    await api.deleteServer(server.id);
    expect(await api.getServer(server.id)).toBeUndefined();
    // Deleting what is gone already is not an error.
    await api.deleteServer(server.id);
  });

  it("reads every page of a long server list", async () => {
    for (let i = 0; i < 55; i++) await api.createServer(vm(`sam-page-${i}`));
    expect(await api.listServers("sam-managed=true")).toHaveLength(55);
    for (const s of await api.listServers("sam-managed=true")) await api.deleteServer(s.id);
  });

  it("reads the server type's gross hourly price in the location", async () => {
    expect(await api.hourlyPrice("cx22", "fsn1")).toEqual({ perHour: 0.006, currency: "EUR" });
    expect(await api.hourlyPrice("cx22", "nowhere")).toBeUndefined();
  });

  it("turns the API's errors into words a person can act on", async () => {
    fixture.failNext("POST /servers", {
      status: 403,
      code: "resource_limit_exceeded",
      message: "server limit reached",
    });
    const quota = await api.createServer(vm("sam-quota")).catch((e: unknown) => e);
    expect(quota).toBeInstanceOf(HetznerApiError);
    expect((quota as HetznerApiError).apiCode).toBe("resource_limit_exceeded");
    expect((quota as Error).message).toMatch(/quota is used up.*server limit reached/);

    fixture.failNext("POST /servers", {
      status: 429,
      code: "rate_limit_exceeded",
      message: "limit of 3600 requests per hour reached",
    });
    await expect(api.createServer(vm("sam-rate"))).rejects.toThrow(/rate limit was hit/);

    await expect(api.createServer({ ...vm("sam-type"), serverType: "cx999" })).rejects.toThrow(
      /refused the server's settings \(server_type: server type not found\)/,
    );
    await expect(new HetznerApi("wrong-token", fixture.url).createServer(vm("sam-auth"))).rejects.toThrow(
      /refused the API token/,
    );
    await expect(new HetznerApi(fixture.token, "http://127.0.0.1:1/v1").listServers("a=b")).rejects.toThrow(
      /could not be reached/,
    );
  });

  it("the stand-in refuses what the API description does not allow", async () => {
    const post = (body: unknown) =>
      fetch(`${fixture.url}/servers`, {
        method: "POST",
        headers: { authorization: `Bearer ${fixture.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const unknownField = await post({ name: "x", server_type: "cx22", image: "debian-12", colour: "red" });
    expect(unknownField.status).toBe(400);
    expect(((await unknownField.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    const noImage = await post({ name: "x", server_type: "cx22" });
    expect(noImage.status).toBe(400);
    const badLabel = await post({ name: "x", server_type: "cx22", image: "debian-12", labels: { "a b": "c" } });
    expect(badLabel.status).toBe(400);
    const bigUserData = await post({
      name: "x",
      server_type: "cx22",
      image: "debian-12",
      user_data: "x".repeat(33_000),
    });
    expect(bigUserData.status).toBe(400);
    expect(fixture.violations).toHaveLength(4);
    fixture.violations.length = 0;
  });
});
