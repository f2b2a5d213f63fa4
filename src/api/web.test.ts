import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoCommunity, demoTariffs } from "../demo/demoCommunity.ts";
import type { ZodApp } from "./context.ts";
import { demoAccountsOf, registerDemoRoutes } from "./routes/demo.ts";
import { registerWeb } from "./web.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "peergrid-web-"));
  mkdirSync(join(dir, "built", "assets"), { recursive: true });
  writeFileSync(join(dir, "built", "index.html"), "<!doctype html><div id=root></div>");
  writeFileSync(join(dir, "built", "assets", "app-1234.js"), "console.log(1)");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function appServing(webRoot: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.get("/api/health", async () => ({ status: "ok" }));
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error: { code: "route_not_found" } }));
  await registerWeb(app, webRoot);
  return app;
}

describe("serving the dashboard (web/dist) next to the API", () => {
  it("serves files, index.html for the app's routes, and leaves /api and /metrics to the API", async () => {
    const app = await appServing(join(dir, "built"));
    const get = (url: string) => app.inject({ method: "GET", url });
    for (const url of ["/", "/market", "/explorer/tx/0xabc"]) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.body).toContain("<div id=root>");
      expect(r.headers["cache-control"]).toBe("no-cache");
    }
    const asset = await get("/assets/app-1234.js");
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["content-type"]).toMatch(/javascript/);
    expect(asset.headers["cache-control"]).toContain("immutable");
    expect((await get("/assets/missing.js")).statusCode).toBe(404);
    expect((await get("/../package.json")).statusCode).not.toBe(200);
    expect((await get("/api/health")).json()).toEqual({ status: "ok" });
    for (const url of ["/api/nothing", "/api", "/metrics/x"]) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.json(), url).toEqual({ error: { code: "route_not_found" } });
    }
    await app.close();
  });

  it("answers / with how to build the dashboard when it is not built", async () => {
    const app = await appServing(join(dir, "not-built"));
    const r = await app.inject({ method: "GET", url: "/" });
    expect(r.statusCode).toBe(503);
    expect(r.headers["content-type"]).toMatch(/text\/html/);
    expect(r.body).toContain("npm run build:web");
    expect((await app.inject({ method: "GET", url: "/api/nothing" })).statusCode).toBe(404);
    await app.close();
  });
});

describe("GET /api/demo/accounts (demo only)", () => {
  it("hands out the demo households', operator's and grid operator's keys, each the key of its address", async () => {
    const community = createDemoCommunity({ seed: "web-test", households: 4, tariffs: demoTariffs });
    const accounts = demoAccountsOf(community);
    expect(accounts.map((a) => a.role)).toEqual(["household", "household", "household", "household", "operator", "gridOperator"]);
    for (const [i, a] of accounts.slice(0, 4).entries()) {
      expect(privateKeyToAccount(a.privateKey).address).toBe(community.households[i]?.account.address);
      expect(a.label).toMatch(/^House 0\d \((\d+\.\d kWp PV|no PV), zone [12]\)$/);
    }
    expect(accounts.slice(4).map((a) => privateKeyToAccount(a.privateKey).address)).toEqual([
      community.operator.address,
      community.grid.address,
    ]);
    const app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    registerDemoRoutes(app as unknown as ZodApp, accounts);
    const r = await app.inject({ method: "GET", url: "/api/demo/accounts" });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ demo: true, accounts: accounts.map((a) => ({ ...a, address: a.address.toLowerCase() })) });
    await app.close();
  });
});
