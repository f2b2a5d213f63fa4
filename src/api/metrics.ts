import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ApiContext } from "./context.ts";

/** The app's own Prometheus registry: request durations by route, index progress, live clients. */
export function createMetrics(ctx: ApiContext) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "peergrid_api_" });
  const requestDuration = new Histogram({
    name: "peergrid_http_request_duration_seconds",
    help: "HTTP request duration by method, route (pattern) and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const status = async () => ctx.deps.indexerStatus().catch(() => undefined);
  new Gauge({
    name: "peergrid_chain_head_block",
    help: "Latest block of the chain",
    registers: [registry],
    async collect() {
      const s = await status();
      if (s) this.set(Number(s.headBlock));
    },
  });
  new Gauge({
    name: "peergrid_indexed_block",
    help: "Latest block the index holds",
    registers: [registry],
    async collect() {
      const s = await status();
      if (s) this.set(Number(s.indexedBlock));
    },
  });
  new Gauge({
    name: "peergrid_index_lag_blocks",
    help: "Blocks the index is behind the chain",
    registers: [registry],
    async collect() {
      const s = await status();
      if (s) this.set(Number(s.headBlock - s.indexedBlock));
    },
  });
  new Gauge({
    name: "peergrid_live_clients",
    help: "Clients connected to /api/live",
    registers: [registry],
    collect() {
      this.set(ctx.liveClients.count);
    },
  });
  return { registry, requestDuration };
}
