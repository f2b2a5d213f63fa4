import type { Migration } from "../store/db.ts";

/**
 * The gateway's table: every reading it acknowledged, one per meter and interval. Readings are never
 * updated or deleted: a second, different reading for the same meter and interval is refused. uint64
 * values are numeric(20) (int8 is signed and stops at 2^63−1); `received_at` is the gateway's clock
 * (unix seconds) when the reading was stored.
 */
export const gatewaySchema: Migration = {
  name: "gateway-1-readings",
  sql: `
create table gateway_readings (
  meter text not null,
  interval numeric(20) not null,
  export_wh numeric(20) not null,
  import_wh numeric(20) not null,
  r text not null,
  vs text not null,
  received_at int8 not null,
  primary key (meter, interval)
);
create index gateway_readings_interval on gateway_readings (interval);
`,
};
