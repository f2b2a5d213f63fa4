import type { ApiContext, LiveEvent, ZodApp } from "../context.ts";

/**
 * GET /api/live: server-sent events. Each event of the live feed goes out as `id: n`, `event: type`,
 * `data: json` (bigints as decimal strings); a `: heartbeat` comment every `heartbeatMs` keeps proxies
 * from closing an idle stream. Unsubscribes when the client goes away.
 */
export function registerLiveRoutes(app: ZodApp, ctx: ApiContext) {
  const heartbeatMs = ctx.deps.heartbeatMs ?? 15_000;
  let nextId = 1;
  app.get(
    "/api/live",
    {
      schema: {
        tags: ["live"],
        summary: "Live updates (text/event-stream): new interval, clearing, trades …",
        description: "Server-sent events; `event:` is the update's type, `data:` its JSON. A `: heartbeat` comment every 15 s.",
      },
    },
    (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.write(": connected\n\n");
      ctx.liveClients.count++;
      const send = (event: LiveEvent) => {
        const data = JSON.stringify(event.data, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
        res.write(`id: ${nextId++}\nevent: ${event.type.replace(/[\r\n]/g, "")}\ndata: ${data}\n\n`);
      };
      const unsubscribe = ctx.deps.live.subscribe(send);
      const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), heartbeatMs);
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        unsubscribe();
        ctx.liveClients.count--;
      };
      request.raw.on("close", close);
      res.on("close", close);
    },
  );
}
