import http from "node:http";
import https from "node:https";
import { custom, HttpRequestError, RpcRequestError, type Transport } from "viem";

type Pending = { method: string; params: unknown; resolve(value: unknown): void; reject(error: unknown): void };

/** Requests per HTTP request: a node may refuse larger JSON-RPC batches. */
const MAX_BATCH = 1_000;

/**
 * A JSON-RPC transport for a node on this machine: the requests made in one turn of the event loop (a
 * group's executions, sends and receipts) travel as one batch, and a lone request goes at once. viem's own
 * batching waits for a timer first, which costs ~1 ms on every sequential request, and a keeper makes
 * dozens per interval. Requests go over node:http with kept-alive connections: `fetch` (undici, web streams,
 * an abort signal per request) cost a simulation ~10 % of its time. Errors are viem's (RpcRequestError,
 * HttpRequestError), so reverts decode as usual.
 * @example createPublicClient({ transport: batchingHttp("http://127.0.0.1:8545", 300_000) })
 */
export function batchingHttp(url: string, timeoutMs: number): Transport {
  let queue: Pending[] = [];
  let nextId = 1;

  const target = new URL(url);
  const agent = new (target.protocol === "https:" ? https : http).Agent({ keepAlive: true });
  const request = target.protocol === "https:" ? https.request : http.request;

  /** POSTs `body`; resolves with the HTTP status and the parsed answer (undefined when it is not JSON). */
  function send(body: string): Promise<{ status: number; json: unknown }> {
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        {
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              if ((res.statusCode ?? 0) < 300) return reject(new Error(`the node's answer is not JSON: ${text.slice(0, 200)}`));
              json = text;
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(body);
    });
  }

  async function post(batch: Pending[]): Promise<void> {
    const bodies = batch.map((p) => ({ jsonrpc: "2.0", id: nextId++, method: p.method, params: p.params ?? [] }));
    const body = bodies.length === 1 ? bodies[0] : bodies;
    let response: { status: number; json: unknown };
    try {
      response = await send(JSON.stringify(body));
    } catch (cause) {
      const error = new HttpRequestError({ body, url, details: (cause as Error).message, cause: cause as Error });
      for (const p of batch) p.reject(error);
      return;
    }
    const { json } = response;
    if (response.status < 200 || response.status >= 300) {
      const error = new HttpRequestError({ body, url, status: response.status, details: JSON.stringify(json) });
      for (const p of batch) p.reject(error);
      return;
    }
    type Answer = { id: number; result?: unknown; error?: { code: number; message: string; data?: unknown } };
    const answers = new Map((Array.isArray(json) ? (json as Answer[]) : [json as Answer]).map((a) => [a.id, a]));
    for (const [i, p] of batch.entries()) {
      const request = bodies[i] as { id: number };
      const answer = answers.get(request.id);
      if (!answer) p.reject(new HttpRequestError({ body: request, url, details: "no answer in the batch" }));
      else if (answer.error) p.reject(new RpcRequestError({ body: request, error: answer.error, url }));
      else p.resolve(answer.result);
    }
  }

  function flush() {
    const batch = queue;
    queue = [];
    for (let i = 0; i < batch.length; i += MAX_BATCH) void post(batch.slice(i, i + MAX_BATCH));
  }

  return custom(
    {
      request({ method, params }) {
        return new Promise((resolve, reject) => {
          if (queue.length === 0) queueMicrotask(flush);
          queue.push({ method, params, resolve, reject });
        });
      },
    },
    { retryCount: 2 },
  );
}
