import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { notFound } from "../errors.ts";
import { addressOut, addressSchema, dec, decimalSchema, decOrNull, errorBodySchema, limitSchema } from "../schemas.ts";

type ParticipantRow = { account: string; zone: number; active: boolean; block_number: bigint };
type MeterRow = {
  meter_id: number;
  signer: string;
  owner: string;
  zone: number;
  source: number;
  registered_at: bigint;
  deactivated_block: bigint | null;
  block_number: bigint;
};

const participantSchema = z.object({
  account: addressOut,
  zone: z.number(),
  active: z.boolean(),
  sinceBlock: decimalSchema.describe("block of the latest registration or status change"),
});
const meterSchema = z.object({
  meterId: z.number(),
  signer: addressOut,
  owner: addressOut,
  zone: z.number(),
  source: z.number().describe("1 solar, 2 wind, 3 battery, 4 other (registry SOURCE_*)"),
  active: z.boolean(),
  registeredAt: decimalSchema.describe("unix seconds"),
  deactivatedBlock: decimalSchema.nullable(),
  registeredBlock: decimalSchema,
});

const participant = (r: ParticipantRow) => ({
  account: r.account,
  zone: r.zone,
  active: r.active,
  sinceBlock: dec(r.block_number),
});
export const meter = (r: MeterRow) => ({
  meterId: r.meter_id,
  signer: r.signer,
  owner: r.owner,
  zone: r.zone,
  source: r.source,
  active: r.deactivated_block === null,
  registeredAt: dec(r.registered_at),
  deactivatedBlock: decOrNull(r.deactivated_block),
  registeredBlock: dec(r.block_number),
});

const LATEST_PARTICIPANTS = `select distinct on (account) account, zone, active, block_number from participant_log`;
const LATEST_ORDER = `order by account, block_number desc, log_index desc`;

/** Participants and meters, from the index (public: who takes part is visible on chain anyway). */
export function registerParticipantRoutes(app: ZodApp, ctx: ApiContext) {
  const { db } = ctx.deps;
  app.get(
    "/api/participants",
    {
      schema: {
        tags: ["participants"],
        summary: "Participants, current state (latest registry event per account)",
        querystring: z.object({
          zone: z.coerce.number().int().min(0).max(65535).optional(),
          active: z.enum(["true", "false"]).optional(),
          after: addressSchema.optional().describe("paging: accounts after this one"),
          limit: limitSchema,
        }),
        response: { 200: z.object({ participants: z.array(participantSchema) }) },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const q = request.query;
        const rows = await db.query<ParticipantRow>(
          `select * from (${LATEST_PARTICIPANTS} where account > $1 ${LATEST_ORDER}) p
         where ($2::int is null or zone = $2) and ($3::boolean is null or active = $3) order by account limit $4`,
          [q.after ?? "", q.zone ?? null, q.active === undefined ? null : q.active === "true", q.limit],
        );
        return { participants: rows.map(participant) };
      });
    },
  );
  app.get(
    "/api/participants/:address",
    {
      schema: {
        tags: ["participants"],
        summary: "A participant with its meters",
        params: z.object({ address: addressSchema }),
        response: { 200: participantSchema.extend({ meters: z.array(meterSchema) }), 404: errorBodySchema },
      },
    },
    async (request) => {
      const { address } = request.params;
      return ctx.fromIndex(request.url, async () => {
        const [row] = await db.query<ParticipantRow>(`${LATEST_PARTICIPANTS} where account = $1 ${LATEST_ORDER}`, [address]);
        if (!row) throw notFound("participant", `${address} is not a participant`);
        const meters = await db.query<MeterRow>("select * from meters where owner = $1 order by meter_id", [address]);
        return { ...participant(row), meters: meters.map(meter) };
      });
    },
  );
  app.get(
    "/api/meters",
    {
      schema: {
        tags: ["participants"],
        summary: "Meters, optionally of one owner",
        querystring: z.object({
          owner: addressSchema.optional(),
          active: z.enum(["true", "false"]).optional(),
          after: z.coerce.number().int().min(0).default(0).describe("paging: meter ids after this one"),
          limit: limitSchema,
        }),
        response: { 200: z.object({ meters: z.array(meterSchema) }) },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const q = request.query;
        const rows = await db.query<MeterRow>(
          `select * from meters where meter_id > $1 and ($2::text is null or owner = $2)
         and ($3::boolean is null or (deactivated_block is null) = $3) order by meter_id limit $4`,
          [q.after, q.owner ?? null, q.active === undefined ? null : q.active === "true", q.limit],
        );
        return { meters: rows.map(meter) };
      });
    },
  );
  app.get(
    "/api/meters/:id",
    {
      schema: {
        tags: ["participants"],
        summary: "A meter",
        params: z.object({ id: z.coerce.number().int().min(1).max(4294967295) }),
        response: { 200: meterSchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const [row] = await db.query<MeterRow>("select * from meters where meter_id = $1", [request.params.id]);
        if (!row) throw notFound("meter", `no meter ${request.params.id}`);
        return meter(row);
      });
    },
  );
}
