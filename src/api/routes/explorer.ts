import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.ts";
import { CURSOR_END, nextBeforeSchema, pageOf, pairCursorParam, pairCursorText } from "../cursor.ts";
import { notFound } from "../errors.ts";
import { addressOut, dec, decimalSchema, errorBodySchema, limitSchema, txHashSchema, uintParam } from "../schemas.ts";

type BlockRow = { number: bigint; hash: string; parent_hash: string; timestamp: bigint; txs?: bigint };
type TxRow = {
  hash: string;
  block_number: bigint;
  tx_index: number;
  from_address: string;
  to_address: string | null;
  contract: string | null;
  function_name: string | null;
  status: string;
  gas_used: bigint;
};
type EventRow = { block_number: bigint; log_index: number; tx_hash: string; contract: string; name: string; args: unknown };

const blockSchema = z.object({
  number: decimalSchema,
  hash: z.string(),
  parentHash: z.string(),
  timestamp: decimalSchema,
  transactions: z.number().describe("PeerGrid transactions in the block"),
});
const txSchema = z.object({
  hash: z.string(),
  blockNumber: decimalSchema,
  index: z.number(),
  from: addressOut,
  to: addressOut.nullable(),
  contract: z.string().nullable().describe("which PeerGrid contract (registry, market, …)"),
  functionName: z.string().nullable(),
  status: z.string(),
  gasUsed: decimalSchema,
});
const eventSchema = z.object({
  blockNumber: decimalSchema,
  logIndex: z.number(),
  txHash: z.string(),
  contract: z.string(),
  name: z.string(),
  args: z.unknown().describe("decoded arguments (integers as decimal strings)"),
});

const block = (r: BlockRow, txs: number) => ({
  number: dec(r.number),
  hash: r.hash,
  parentHash: r.parent_hash,
  timestamp: dec(r.timestamp),
  transactions: txs,
});
const tx = (r: TxRow) => ({
  hash: r.hash,
  blockNumber: dec(r.block_number),
  index: r.tx_index,
  from: r.from_address,
  to: r.to_address,
  contract: r.contract,
  functionName: r.function_name,
  status: r.status,
  gasUsed: dec(r.gas_used),
});
const event = (r: EventRow) => ({
  blockNumber: dec(r.block_number),
  logIndex: r.log_index,
  txHash: r.tx_hash,
  contract: r.contract,
  name: r.name,
  args: r.args,
});

/** The chain as PeerGrid sees it: blocks with PeerGrid transactions, transactions with decoded events. */
export function registerExplorerRoutes(app: ZodApp, ctx: ApiContext) {
  const { db } = ctx.deps;
  app.get(
    "/api/explorer/blocks",
    {
      schema: {
        tags: ["explorer"],
        summary: "Recent blocks holding PeerGrid transactions, newest first",
        description: "A page at a time: pass the answer's `nextBefore` as `before` for the next (older) page.",
        querystring: z.object({
          before: uintParam.optional().describe("paging: blocks before this one (a page's nextBefore)"),
          limit: limitSchema,
        }),
        response: { 200: z.object({ blocks: z.array(blockSchema), nextBefore: nextBeforeSchema }), 400: errorBodySchema },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const { before, limit } = request.query;
        const rows = await db.query<BlockRow>(
          `select b.number, b.hash, b.parent_hash, b.timestamp,
           (select count(*) from chain_transactions t where t.block_number = b.number) as txs
         from chain_blocks b where b.number < $1 and exists (select 1 from chain_transactions t where t.block_number = b.number)
         order by b.number desc limit $2`,
          [before ?? CURSOR_END[0], limit + 1],
        );
        const page = pageOf(rows, limit, (r) => dec(r.number));
        return { blocks: page.rows.map((r) => block(r, Number(r.txs ?? 0n))), nextBefore: page.nextBefore };
      });
    },
  );
  app.get(
    "/api/explorer/blocks/:number",
    {
      schema: {
        tags: ["explorer"],
        summary: "A block with its PeerGrid transactions",
        params: z.object({ number: uintParam }),
        response: { 200: blockSchema.extend({ txs: z.array(txSchema) }), 404: errorBodySchema },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const { number } = request.params;
        const [[row], txs] = await Promise.all([
          db.query<BlockRow>("select number, hash, parent_hash, timestamp from chain_blocks where number = $1", [number]),
          db.query<TxRow>("select * from chain_transactions where block_number = $1 order by tx_index", [number]),
        ]);
        if (!row) throw notFound("block", `block ${number} holds no PeerGrid transaction, or is not indexed yet`);
        return { ...block(row, txs.length), txs: txs.map(tx) };
      });
    },
  );
  app.get(
    "/api/explorer/tx/:hash",
    {
      schema: {
        tags: ["explorer"],
        summary: "A PeerGrid transaction with its decoded events",
        params: z.object({ hash: txHashSchema }),
        response: { 200: txSchema.extend({ events: z.array(eventSchema) }), 404: errorBodySchema },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const hash = request.params.hash.toLowerCase();
        const [[row], events] = await Promise.all([
          db.query<TxRow>("select * from chain_transactions where hash = $1", [hash]),
          db.query<EventRow>("select * from chain_events where tx_hash = $1 order by block_number, log_index", [hash]),
        ]);
        if (!row) throw notFound("transaction", `no indexed PeerGrid transaction ${hash}`);
        return { ...tx(row), events: events.map(event) };
      });
    },
  );
  app.get(
    "/api/explorer/events",
    {
      schema: {
        tags: ["explorer"],
        summary: "Decoded PeerGrid events, newest first, optionally of one name (e.g. IntervalSettled)",
        querystring: z.object({
          name: z
            .string()
            .regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/)
            .optional(),
          before: pairCursorParam
            .optional()
            .describe("paging: events before block:logIndex (a page's nextBefore), or in blocks before N"),
          limit: limitSchema,
        }),
        response: { 200: z.object({ events: z.array(eventSchema), nextBefore: nextBeforeSchema }), 400: errorBodySchema },
      },
    },
    async (request) => {
      return ctx.fromIndex(request.url, async () => {
        const { name, before, limit } = request.query;
        const [blockNumber, logIndex] = before ?? CURSOR_END;
        // A block holds many events: the cursor is (block_number, log_index), both compared.
        const rows = await db.query<EventRow>(
          `select * from chain_events where ($1::text is null or name = $1)
           and (block_number < $2 or (block_number = $2 and log_index < $3))
         order by block_number desc, log_index desc limit $4`,
          [name ?? null, blockNumber, logIndex, limit + 1],
        );
        const page = pageOf(rows, limit, (r) => pairCursorText(r.block_number, r.log_index));
        return { events: page.rows.map(event), nextBefore: page.nextBefore };
      });
    },
  );
}
