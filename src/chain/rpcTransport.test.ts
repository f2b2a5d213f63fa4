import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createPublicClient, HttpRequestError, RpcRequestError } from "viem";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { batchingHttp } from "./rpcTransport.ts";

type Request = { jsonrpc: string; id: number; method: string; params: unknown[] };

/** A JSON-RPC server whose answers each test decides; it records every HTTP body it received. */
let answer: (body: Request | Request[], res: ServerResponse) => void;
const bodies: (Request | Request[])[] = [];
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Request | Request[];
    bodies.push(body);
    answer(body, res);
  });
});
let url = "";

const reply = (res: ServerResponse, status: number, json: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(json));
};

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  bodies.length = 0;
});

const client = (timeoutMs = 5_000) => createPublicClient({ transport: batchingHttp(url, timeoutMs) });

describe("batchingHttp", () => {
  it("sends the requests of one turn as one batch and gives each its own answer, in whatever order they come", async () => {
    answer = (body, res) => {
      const batch = body as Request[];
      reply(
        res,
        200,
        [...batch].reverse().map((r) => ({ jsonrpc: "2.0", id: r.id, result: `${r.method}:${r.params[0]}` })),
      );
    };
    const c = client();
    const answers = await Promise.all(
      ["a", "b", "c"].map((p) => c.request({ method: "echo", params: [p] } as never) as Promise<string>),
    );
    expect(answers).toEqual(["echo:a", "echo:b", "echo:c"]);
    expect(bodies).toHaveLength(1);
    expect((bodies[0] as Request[]).map((r) => r.params[0])).toEqual(["a", "b", "c"]);
  });

  it("sends a lone request as a plain JSON-RPC object", async () => {
    answer = (body, res) => reply(res, 200, { jsonrpc: "2.0", id: (body as Request).id, result: "0x1" });
    expect(await client().request({ method: "eth_chainId" } as never)).toBe("0x1");
    expect(bodies).toEqual([{ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }]);
  });

  it("turns the node's error into viem's RpcRequestError with its code and data, and leaves the batch's other answers alone", async () => {
    answer = (body, res) =>
      reply(
        res,
        200,
        (body as Request[]).map((r) =>
          r.method === "bad"
            ? { jsonrpc: "2.0", id: r.id, error: { code: 3, message: "execution reverted", data: "0x1234" } }
            : { jsonrpc: "2.0", id: r.id, result: "ok" },
        ),
      );
    const c = client();
    const [bad, good] = await Promise.allSettled([c.request({ method: "bad" } as never), c.request({ method: "good" } as never)]);
    expect(good).toEqual({ status: "fulfilled", value: "ok" });
    const error = (bad as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(RpcRequestError);
    expect(error).toMatchObject({ code: 3, data: "0x1234" });
  });

  it("rejects every request of a batch with HttpRequestError when the node answers an HTTP error or nothing in time", async () => {
    answer = (_body, res) => reply(res, 503, { message: "overloaded" });
    const refused = await client()
      .request({ method: "eth_blockNumber" } as never)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpRequestError);
    expect(refused).toMatchObject({ status: 503 });

    answer = () => {}; // never answers
    const late = await client(100)
      .request({ method: "eth_blockNumber" } as never)
      .catch((e: unknown) => e);
    expect(late).toBeInstanceOf(HttpRequestError);
    expect((late as HttpRequestError).details).toMatch(/no answer within 100 ms/);
  });

  it("says which request of a batch the node left unanswered", async () => {
    // Also when viem retries it alone.
    answer = (body, res) =>
      reply(
        res,
        200,
        ([] as Request[])
          .concat(body)
          .filter((r) => r.method !== "two")
          .map((r) => ({ jsonrpc: "2.0", id: r.id, result: "0x1" })),
      );
    const c = client();
    const [first, second] = await Promise.allSettled([
      c.request({ method: "one" } as never),
      c.request({ method: "two" } as never),
    ]);
    expect(first).toEqual({ status: "fulfilled", value: "0x1" });
    expect((second as PromiseRejectedResult).reason).toBeInstanceOf(HttpRequestError);
    expect(String((second as PromiseRejectedResult).reason.details)).toMatch(/no answer in the batch/);
  });
});
