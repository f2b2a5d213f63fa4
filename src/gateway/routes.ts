import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { ApiError } from "../api/errors.ts";
import { intervalAt } from "../core/interval.ts";
import type { Gateway, GatewayDomainInfo } from "./gateway.ts";
import { summarize } from "./gateway.ts";
import { MQTT_READINGS_TOPIC_PATTERN, MQTT_RESULTS_TOPIC_PATTERN } from "./mqtt.ts";
import { fromWire, wireReadingSchema } from "./wire.ts";

/** Most readings one request may carry (~1 MB of JSON). */
export const MAX_BATCH_READINGS = 5_000;

const fieldIssue = z.object({ path: z.string(), message: z.string() });

/** One reading's outcome on the wire (the same JSON on MQTT's results topic). */
export const readingResultSchema = z
  .object({
    status: z.enum(["accepted", "duplicate", "rejected"]),
    meter: z.string().optional(),
    interval: z.string().optional(),
    code: z
      .string()
      .optional()
      .meta({ description: "why it was rejected (stable): reading_malformed, reading_bad_signature, …" }),
    message: z.string().optional(),
    issues: z.array(fieldIssue).optional(),
  })
  .meta({ id: "ReadingResult" });

export const submitResponseSchema = z
  .object({
    accepted: z.number().int(),
    duplicate: z.number().int(),
    rejected: z.number().int(),
    results: z.array(readingResultSchema),
  })
  .meta({
    id: "ReadingsSubmitted",
    description: "accepted and duplicate readings are stored durably; one result per reading, in order",
  });

const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional(), hint: z.string().optional() }),
});

export const domainResponseSchema = z
  .object({
    name: z.literal("PeerGrid"),
    version: z.literal("1"),
    chainId: z.number().int(),
    verifyingContract: z.string(),
    intervalSeconds: z.string(),
    readingWindowSeconds: z.string(),
    now: z.string().meta({ description: "the gateway's clock, unix seconds" }),
    latestEndedInterval: z.string().meta({ description: "the interval a meter reports now: the last one that ended" }),
    topicPattern: z.string(),
    resultsTopicPattern: z.string(),
  })
  .meta({ id: "GatewayDomain" });

/**
 * The gateway's HTTP routes: `POST /api/readings` (one reading, or `{ readings: [...] }` up to
 * MAX_BATCH_READINGS) answers 200 once every accepted reading is stored; `GET /api/gateway/domain` tells a
 * device what to sign. Expects the app's error handler to answer ApiErrors with their status and body.
 * @example registerGatewayRoutes(app, gateway)
 */
export function registerGatewayRoutes(
  app: FastifyInstance,
  gateway: Gateway,
  domainInfo: GatewayDomainInfo = gateway.domainInfo,
) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.post(
    "/api/readings",
    {
      // ~250 bytes a reading: a full batch is ~1.3 MB, above Fastify's 1 MiB default.
      bodyLimit: 4 * 1024 * 1024,
      // Validation is the handler's: a batch's bad readings are answered one by one, the good ones stored.
      attachValidation: true,
      schema: {
        tags: ["gateway"],
        summary: "Submit signed meter readings",
        description: `One signed reading, or \`{ "readings": [...] }\` with up to ${MAX_BATCH_READINGS}. Each is checked (form, EIP-712 signature, meter, interval window) and either stored or rejected with a code; a reading already stored answers \`duplicate\`. 200 means every accepted reading is stored durably. A malformed single reading, or a body that is no reading and no batch, answers 400 with the bad fields; a batch over the limit, 413.`,
        body: z.union([wireReadingSchema, z.object({ readings: z.array(wireReadingSchema).max(MAX_BATCH_READINGS) })]),
        response: { 200: submitResponseSchema, 400: errorBodySchema, 413: errorBodySchema },
      },
    },
    async (request) => {
      const body: unknown = request.body;
      let inputs: unknown[];
      if (typeof body === "object" && body !== null && !Array.isArray(body) && "readings" in body) {
        const { readings } = body;
        if (!Array.isArray(readings) || readings.length === 0) {
          throw new ApiError(400, "invalid_body", "readings: must be a non-empty array of signed readings", {
            details: [{ path: "readings", message: "must be a non-empty array of signed readings" }],
          });
        }
        if (readings.length > MAX_BATCH_READINGS) {
          throw new ApiError(
            413,
            "batch_too_large",
            `a request carries at most ${MAX_BATCH_READINGS} readings, this one ${readings.length}`,
            {
              hint: "split the batch",
            },
          );
        }
        inputs = readings;
      } else {
        const parsed = fromWire(body);
        if (!parsed.ok) {
          throw new ApiError(400, "reading_malformed", parsed.issues.map((i) => `${i.path}: ${i.message}`).join("; "), {
            details: parsed.issues,
            hint: 'send one signed reading { meter, interval, exportWh, importWh, r, vs } or { "readings": [...] }',
          });
        }
        inputs = [body];
      }
      return summarize(await gateway.submit(inputs));
    },
  );

  routes.get(
    "/api/gateway/domain",
    {
      schema: {
        tags: ["gateway"],
        summary: "What a meter signs",
        description:
          'The EIP-712 domain of readings (name "PeerGrid", version "1", chainId, verifyingContract), the interval timing, the gateway clock and the MQTT topics.',
        response: { 200: domainResponseSchema },
      },
    },
    async () => {
      const now = gateway.now();
      return {
        name: "PeerGrid" as const,
        version: "1" as const,
        chainId: domainInfo.chainId,
        verifyingContract: domainInfo.verifyingContract,
        intervalSeconds: domainInfo.intervalSeconds.toString(),
        readingWindowSeconds: domainInfo.readingWindowSeconds.toString(),
        now: now.toString(),
        latestEndedInterval: (intervalAt(now, domainInfo) - 1n).toString(),
        topicPattern: MQTT_READINGS_TOPIC_PATTERN,
        resultsTopicPattern: MQTT_RESULTS_TOPIC_PATTERN,
      };
    },
  );
}
