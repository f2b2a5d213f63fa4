import { existsSync, readFileSync, writeFileSync } from "node:fs";
import mqtt from "mqtt";
import { type Address, getAddress, type Hex, isAddress } from "viem";
import { generatePrivateKey } from "viem/accounts";
import { PeerGridError } from "../chain/errors.ts";
import type { SubmitSummary } from "../gateway/gateway.ts";
import { toWire } from "../gateway/wire.ts";
import { type MeterKey, meterKey, type ReadingDomain, signReading } from "../metering/reading.ts";
import { parseCommandArgs, positiveInteger } from "./options.ts";
import type { CommandIo } from "./start.ts";

export const meterHelp = `Usage: peergrid meter <keygen | sign | publish> [options]

Simulates a smart meter: makes a signing key, signs readings (EIP-712), sends them to a gateway.

  peergrid meter keygen [--out <file>]
      a new meter key: prints the private key and the address (the operator registers the address);
      with --out, writes the key to <file> (mode 600) and prints only the address
  peergrid meter sign --key <hex|file> --interval <n> --export-wh <n> --import-wh <n>
                      --chain-id <n> --market <address>
      prints the signed reading as the gateway's JSON wire format
  peergrid meter publish --key <hex|file> (--server <url> | --mqtt <url>) [--interval <n>]
                         --export-wh <n> --import-wh <n>
      signs and sends one reading, prints the gateway's answer; exits non-zero when it is rejected.
      --server http://host:port   the gateway's API: the domain comes from GET /api/gateway/domain,
                                  the interval defaults to the last one that ended, and without
                                  --mqtt the reading is sent with POST /api/readings
      --mqtt mqtt://host:port     publish with QoS 1 to peergrid/meters/<address>/readings and wait for
                                  the answer on peergrid/meters/<address>/results (--topic-root
                                  changes "peergrid"); without --server give --chain-id, --market and
                                  --interval
      --timeout-seconds <n>       how long to wait for the MQTT answer (default 10)
  -h, --help                    show this help

A device integration, step by step (any EIP-712 library will do; this is viem):
  1. GET http://gateway:8080/api/gateway/domain
       → { "name": "PeerGrid", "version": "1", "chainId": 31337, "verifyingContract": "0x…",
           "intervalSeconds": "900", "latestEndedInterval": "1979452", … }
  2. sign Reading(address meter, uint64 interval, uint64 exportWh, uint64 importWh) under that domain,
     once the interval has ended, and split the signature into its compact (EIP-2098) form:
       const signature = await account.signTypedData({ domain, types: { Reading: [
           { name: "meter", type: "address" }, { name: "interval", type: "uint64" },
           { name: "exportWh", type: "uint64" }, { name: "importWh", type: "uint64" }] },
         primaryType: "Reading", message: { meter: account.address, interval, exportWh, importWh } });
       const { r, yParityAndS: vs } = signatureToCompactSignature(parseSignature(signature));
  3. POST http://gateway:8080/api/readings with Content-Type: application/json and
       { "meter": "0x…", "interval": "1979452", "exportWh": "456", "importWh": "0", "r": "0x…", "vs": "0x…" }
     (integers as decimal strings; several at once as { "readings": [ … ] }), or publish that JSON with
     QoS 1 to peergrid/meters/<meter>/readings. 200 (or the PUBACK) means stored; each reading's result
     is "accepted", "duplicate" (sent before: fine to retry) or "rejected" with a code and a message.

Examples:
  peergrid meter keygen --out meter.key
  peergrid meter publish --key meter.key --server http://127.0.0.1:8080 --export-wh 420 --import-wh 0`;

const spec = {
  key: { type: "string" },
  out: { type: "string" },
  interval: { type: "string" },
  "export-wh": { type: "string" },
  "import-wh": { type: "string" },
  "chain-id": { type: "string" },
  market: { type: "string" },
  server: { type: "string" },
  mqtt: { type: "string" },
  "topic-root": { type: "string" },
  "timeout-seconds": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = Partial<Record<keyof typeof spec, string | boolean>>;

const U64_MAX = 2n ** 64n - 1n;

/** A uint64 option (`--export-wh 420`). */
export function uint64Option(name: string, value: string | boolean | undefined): bigint {
  if (typeof value !== "string") throw new PeerGridError(`--${name} is required`, { hint: "run `peergrid meter --help`" });
  if (!/^(0|[1-9][0-9]*)$/.test(value) || BigInt(value) > U64_MAX) {
    throw new PeerGridError(`--${name} must be a whole number from 0 to 2^64−1, got "${value}"`);
  }
  return BigInt(value);
}

/** The meter key from `--key`: a 0x-prefixed 32-byte hex key, or a file holding one. */
export function keyOption(value: string | boolean | undefined): MeterKey {
  if (typeof value !== "string") {
    throw new PeerGridError("--key is required: a private key (0x + 64 hex digits) or a file holding one", {
      hint: "make one with `peergrid meter keygen --out meter.key`",
    });
  }
  const isKey = (text: string) => /^0x[0-9a-fA-F]{64}$/.test(text);
  if (isKey(value)) return meterKey(value as Hex);
  if (!existsSync(value)) throw new PeerGridError(`--key "${value}" is neither a private key (0x + 64 hex digits) nor a file`);
  const text = readFileSync(value, "utf8").trim();
  if (!isKey(text)) throw new PeerGridError(`${value} does not hold a private key (0x + 64 hex digits)`);
  return meterKey(text as Hex);
}

function domainOptions(values: Values): ReadingDomain {
  const chainId = values["chain-id"];
  const market = values.market;
  if (typeof chainId !== "string" || !/^[1-9][0-9]*$/.test(chainId) || !Number.isSafeInteger(Number(chainId))) {
    throw new PeerGridError(
      `--chain-id must be a positive whole number, got ${chainId === undefined ? "nothing" : `"${chainId}"`}`,
      {
        hint: "or give --server to read the domain from the gateway",
      },
    );
  }
  if (typeof market !== "string" || !isAddress(market, { strict: false })) {
    throw new PeerGridError(
      `--market must be the market contract's address (0x + 40 hex digits), got ${market === undefined ? "nothing" : `"${market}"`}`,
    );
  }
  return { chainId: Number(chainId), verifyingContract: getAddress(market.toLowerCase()) };
}

type DomainAnswer = { chainId: number; verifyingContract: Address; latestEndedInterval: string };

async function fetchJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new PeerGridError(`cannot reach ${url}`, { details: String((error as Error).cause ?? error), retryable: true });
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    throw new PeerGridError(`${url} answered ${response.status} with no JSON`, { details: text.slice(0, 200) });
  }
}

async function publishMqtt(url: string, root: string, key: MeterKey, payload: string, timeoutMs: number): Promise<SubmitSummary> {
  const client = await mqtt
    .connectAsync(url, { clean: true, connectTimeout: timeoutMs, reconnectPeriod: 0 })
    .catch((error: Error) => {
      throw new PeerGridError(`cannot reach the MQTT broker at ${url}`, { details: error.message, retryable: true });
    });
  try {
    const results = `${root}/meters/${key.address}/results`;
    const answer = new Promise<SubmitSummary>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new PeerGridError(`no answer on ${results} within ${timeoutMs / 1000} s`, { hint: "is a gateway subscribed?" })),
        timeoutMs,
      );
      client.on("message", (topic, message) => {
        if (topic !== results) return;
        clearTimeout(timer);
        resolve(JSON.parse(message.toString("utf8")) as SubmitSummary);
      });
    });
    await client.subscribeAsync(results, { qos: 1 });
    await client.publishAsync(`${root}/meters/${key.address}/readings`, payload, { qos: 1 });
    return await answer;
  } finally {
    await client.endAsync();
  }
}

/** `peergrid meter`. */
export async function meter(argv: string[], io: CommandIo): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") return io.out(meterHelp);
  if (sub !== "keygen" && sub !== "sign" && sub !== "publish") {
    throw new PeerGridError(`peergrid meter: unknown subcommand "${sub}"`, {
      hint: "use keygen, sign or publish; see `peergrid meter --help`",
    });
  }
  const { values } = parseCommandArgs("meter", rest, spec);
  if (values.help) return io.out(meterHelp);

  if (sub === "keygen") {
    const key = meterKey(generatePrivateKey());
    if (typeof values.out === "string") {
      if (existsSync(values.out)) throw new PeerGridError(`${values.out} exists; not overwriting a key`);
      writeFileSync(values.out, `${key.privateKey}\n`, { mode: 0o600, flag: "wx" });
      io.out(`address     ${key.address}`);
      io.out(`private key written to ${values.out}`);
    } else {
      io.out(`address     ${key.address}`);
      io.out(`private key ${key.privateKey}`);
    }
    return;
  }

  const key = keyOption(values.key);
  const exportWh = uint64Option("export-wh", values["export-wh"]);
  const importWh = uint64Option("import-wh", values["import-wh"]);
  if (sub === "sign") {
    const domain = domainOptions(values);
    const interval = uint64Option("interval", values.interval);
    io.out(JSON.stringify(toWire(signReading(key, domain, { interval, exportWh, importWh }))));
    return;
  }

  const server = typeof values.server === "string" ? values.server.replace(/\/+$/, "") : undefined;
  const mqttUrl = typeof values.mqtt === "string" ? values.mqtt : undefined;
  if (!server && !mqttUrl) throw new PeerGridError("publish needs --server <url> or --mqtt <url>");
  let domain: ReadingDomain;
  let interval: bigint;
  if (server) {
    const { status, body } = await fetchJson(`${server}/api/gateway/domain`);
    if (status !== 200)
      throw new PeerGridError(`${server}/api/gateway/domain answered ${status}`, { details: JSON.stringify(body) });
    const answer = body as DomainAnswer;
    domain = { chainId: answer.chainId, verifyingContract: answer.verifyingContract };
    interval = values.interval === undefined ? BigInt(answer.latestEndedInterval) : uint64Option("interval", values.interval);
  } else {
    domain = domainOptions(values);
    interval = uint64Option("interval", values.interval);
  }
  const payload = JSON.stringify(toWire(signReading(key, domain, { interval, exportWh, importWh })));
  const timeoutMs = 1000 * positiveInteger("timeout-seconds", values["timeout-seconds"] as string | undefined, 10);

  let summary: SubmitSummary;
  if (mqttUrl) {
    summary = await publishMqtt(
      mqttUrl,
      typeof values["topic-root"] === "string" ? values["topic-root"] : "peergrid",
      key,
      payload,
      timeoutMs,
    );
  } else {
    const { status, body } = await fetchJson(`${server}/api/readings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: payload,
    });
    if (status !== 200) {
      const error = (body as { error?: { code?: string; message?: string } }).error;
      throw new PeerGridError(
        `the gateway answered ${status}: ${error?.code ?? "error"}: ${error?.message ?? JSON.stringify(body)}`,
      );
    }
    summary = body as SubmitSummary;
  }
  const [result] = summary.results;
  io.out(JSON.stringify(result));
  if (!result || result.status === "rejected") {
    throw new PeerGridError(`the gateway rejected the reading of meter ${key.address} for interval ${interval}`, {
      details: result?.status === "rejected" ? `${result.code}: ${result.message}` : "no result",
    });
  }
}
