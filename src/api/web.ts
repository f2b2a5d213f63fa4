import { existsSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** Where `npm run build:web` puts the dashboard: `<repo>/web/dist`. */
export const defaultWebRoot = resolve(import.meta.dirname, "..", "..", "web", "dist");

const missingPage = (webRoot: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>PeerGrid: dashboard not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#111;background:#fff}
code{background:#eee;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><main><h1>The dashboard is not built</h1>
<p>This server looks for the web dashboard in <code>${webRoot.replace(/[<>&]/g, "")}</code>, which does not exist.</p>
<p>Build it with <code>npm run build:web</code> (<code>npm install</code> does it too), then reload this page.</p>
<p>The API is running: <a href="/api/docs">/api/docs</a>, <a href="/api/health">/api/health</a>.</p></main></body></html>
`;

/**
 * Serves the dashboard (the built single-page app in `webRoot`) at `/`: its files, and `index.html` for
 * any other path without a file extension (the app's own routes, e.g. /explorer/tx/0x…), so a reload or
 * a shared link works. Never for /api or /metrics: an unknown API path still answers the JSON 404. When
 * `webRoot` has no index.html, `/` answers a page saying how to build it.
 */
export async function registerWeb(app: FastifyInstance, webRoot: string): Promise<void> {
  await app.register(async (web) => {
    await web.register(fastifyStatic, {
      root: webRoot,
      serve: false,
      // Vite names built assets by their content: cache them for good; index.html must always be fresh.
      cacheControl: false,
      setHeaders: (reply, path) => {
        reply.header(
          "cache-control",
          relative(webRoot, path).startsWith(`assets${sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
        );
      },
    });
    web.get("/*", { schema: { hide: true } }, async (request, reply) => {
      const path = (request.params as { "*": string })["*"] ?? "";
      if (path === "api" || path.startsWith("api/") || path === "metrics" || path.startsWith("metrics/")) {
        return reply.callNotFound(); // the API's JSON 404
      }
      if (!existsSync(join(webRoot, "index.html"))) {
        return reply
          .status(path === "" || !path.includes(".") ? 503 : 404)
          .type("text/html; charset=utf-8")
          .send(missingPage(webRoot));
      }
      const last = path.split("/").pop() ?? "";
      // A file (it has an extension) is served or 404s; anything else is a route of the app.
      return last.includes(".") ? reply.sendFile(path) : reply.sendFile("index.html");
    });
  });
}
