import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { notFound } from "../errors.ts";
import { isOperator } from "../roles.ts";
import { addressOut, addressSchema, dec, decimalSchema, decOrNull, errorBodySchema, limitSchema } from "../schemas.ts";

type ParticipantRow = {
  account: string;
  zone: number;
  active: boolean;
  block_number: bigint;
  registered_block: bigint;
  registered_at: bigint | null;
};
type MeterStateRow = { meter_id: number; owner: string; deactivated_block: bigint | null };
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
  registeredBlock: decimalSchema.describe("block of the registration"),
  registeredAt: decimalSchema.nullable().describe("unix seconds of the registration's block"),
  displayName: z
    .string()
    .nullable()
    .describe("the name the household chose for itself (its profile): for operators only, null for everyone else or when unset"),
});
const meterStateSchema = z.object({ meterId: z.number(), active: z.boolean() });
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
  registeredBlock: dec(r.registered_block),
  registeredAt: decOrNull(r.registered_at),
  displayName: null as string | null,
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
/** Adds the registration's block (the account's first registry event) and its time to rows of `LATEST_PARTICIPANTS`. */
const WITH_REGISTRATION = (latest: string) => `select l.*, r.registered_block, b.timestamp as registered_at from (${latest}) l
  join (select account, min(block_number) as registered_block from participant_log group by account) r on r.account = l.account
  left join chain_blocks b on b.number = r.registered_block`;

/** Participants and meters, from the index (public: who takes part is visible on chain anyway). */
export function registerParticipantRoutes(app: ZodApp, ctx: ApiContext) {
  const { db } = ctx.deps;
  /** The display names of `accounts` when the caller is an operator (profiles are private and not part of the index). */
  const displayNames = async (request: FastifyRequest, accounts: readonly string[]): Promise<Map<string, string>> => {
    if (accounts.length === 0 || !isOperator(await ctx.identify(request))) return new Map();
    const rows = await db.query<{ account: string; display_name: string }>(
      "select account, display_name from profiles where account = any($1::text[])",
      [accounts],
    );
    return new Map(rows.map((r) => [r.account, r.display_name]));
  };
  app.get(
    "/api/participants",
    {
      schema: {
        tags: ["participants"],
        summary: "Participants, current state (latest registry event per account), in address order, with their meters",
        description:
          "A page at a time: pass the answer's `nextAfter` as `after` for the next page. An operator's request " +
          "(Authorization: Bearer) also gets each household's display name.",
        querystring: z.object({
          zone: z.coerce.number().int().min(0).max(65535).optional(),
          active: z.enum(["true", "false"]).optional(),
          after: addressSchema.optional().describe("paging: accounts after this one (a page's nextAfter)"),
          limit: limitSchema,
        }),
        response: {
          200: z.object({
            participants: z.array(participantSchema.extend({ meters: z.array(meterStateSchema) })),
            nextAfter: addressOut.nullable().describe("the next page's `after`; null: this page ends the list"),
          }),
          400: errorBodySchema,
          401: errorBodySchema,
        },
      },
    },
    async (request) => {
      const page = await ctx.fromIndex(request.url, async () => {
        const q = request.query;
        const rows = await db.query<ParticipantRow>(
          `${WITH_REGISTRATION(`select * from (${LATEST_PARTICIPANTS} where account > $1 ${LATEST_ORDER}) p
           where ($2::int is null or zone = $2) and ($3::boolean is null or active = $3) order by account limit $4`)}
           order by l.account`,
          [q.after ?? "", q.zone ?? null, q.active === undefined ? null : q.active === "true", q.limit + 1],
        );
        const shown = rows.slice(0, q.limit);
        const meters = await db.query<MeterStateRow>(
          "select meter_id, owner, deactivated_block from meters where owner = any($1::text[]) order by meter_id",
          [shown.map((r) => r.account)],
        );
        return {
          participants: shown.map((r) => ({
            ...participant(r),
            meters: meters
              .filter((m) => m.owner === r.account)
              .map((m) => ({ meterId: m.meter_id, active: m.deactivated_block === null })),
          })),
          nextAfter: rows.length > q.limit ? (shown[shown.length - 1]?.account ?? null) : null,
        };
      });
      const names = await displayNames(
        request,
        page.participants.map((p) => p.account),
      );
      return {
        ...page,
        participants: page.participants.map((p) => ({ ...p, displayName: names.get(p.account) ?? null })),
      };
    },
  );
  app.get(
    "/api/participants/:address",
    {
      schema: {
        tags: ["participants"],
        summary: "A participant with its meters (and its display name, for operators)",
        params: z.object({ address: addressSchema }),
        response: {
          200: participantSchema.extend({ meters: z.array(meterSchema) }),
          401: errorBodySchema,
          404: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { address } = request.params;
      const found = await ctx.fromIndex(request.url, async () => {
        const [row] = await db.query<ParticipantRow>(
          WITH_REGISTRATION(`${LATEST_PARTICIPANTS} where account = $1 ${LATEST_ORDER}`),
          [address],
        );
        if (!row) throw notFound("participant", `${address} is not a participant`);
        const meters = await db.query<MeterRow>("select * from meters where owner = $1 order by meter_id", [address]);
        return { ...participant(row), meters: meters.map(meter) };
      });
      const names = await displayNames(request, [found.account]);
      return { ...found, displayName: names.get(found.account) ?? null };
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
