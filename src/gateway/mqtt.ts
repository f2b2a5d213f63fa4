import mqtt, { type IPublishPacket, type MqttClient } from "mqtt";
import { type Gateway, type ReadingResult, summarize } from "./gateway.ts";

/** Where a meter publishes its readings (QoS 1), `{meter}` its signing address. */
export const MQTT_READINGS_TOPIC_PATTERN = "peergrid/meters/{meter}/readings";
/** Where the gateway answers each message with `{ accepted, duplicate, rejected, results }`. */
export const MQTT_RESULTS_TOPIC_PATTERN = "peergrid/meters/{meter}/results";

export type MqttIngestOptions = {
  /** mqtt://host:port (MQTT_URL). */
  url: string;
  gateway: Gateway;
  log?: (message: string) => void;
  /** Stable across restarts: the broker keeps this session's subscription and queued messages (default "peergrid-gateway"). */
  clientId?: string;
  /** First topic level (default "peergrid"); another root lets several communities or test runs share a broker. */
  topicRoot?: string;
};

export type MqttIngest = { close(): Promise<void> };

/**
 * Takes readings from MQTT: subscribes with QoS 1 to `<root>/meters/+/readings` in a persistent session
 * (clean: false, stable client id), so messages published while the gateway is down wait at the broker.
 * A message is acknowledged (PUBACK) only after its readings are stored; when storing fails it is not
 * acknowledged and the connection is reset, so the broker delivers it again. A redelivered message
 * answers `duplicate`. Payload: one wire reading or an array; each must be signed by the meter named in
 * the topic. Results go to `<root>/meters/<meter>/results`.
 * @example const ingest = await startMqttIngest({ url: process.env.MQTT_URL, gateway }); … await ingest.close()
 */
export async function startMqttIngest(options: MqttIngestOptions): Promise<MqttIngest> {
  const { gateway } = options;
  const log = options.log ?? (() => {});
  const root = options.topicRoot ?? "peergrid";
  const subscription = `${root}/meters/+/readings`;
  const client: MqttClient = mqtt.connect(options.url, {
    clientId: options.clientId ?? "peergrid-gateway",
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
  });
  let closing = false;

  async function handle(packet: IPublishPacket): Promise<void> {
    const parts = packet.topic.split("/");
    const topicMeter = parts[parts.length - 2] ?? "";
    const answer = (results: ReadingResult[]) => {
      // Not awaited: the broker's PUBACK for it is read by the same loop that waits for this handler.
      client.publish(`${root}/meters/${topicMeter}/results`, JSON.stringify(summarize(results)), { qos: 1 }, (error) => {
        if (error && !closing) log(`mqtt: could not publish results for ${topicMeter}: ${error.message}`);
      });
    };
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(packet.payload).toString("utf8"));
    } catch (error) {
      const message = `payload is not JSON: ${(error as Error).message}`;
      return answer([{ status: "rejected", code: "reading_malformed", message, issues: [{ path: "(payload)", message }] }]);
    }
    const items = Array.isArray(payload) ? payload : [payload];
    if (items.length === 0) {
      const message = "payload is an empty array: send one reading or an array of readings";
      return answer([{ status: "rejected", code: "reading_malformed", message, issues: [{ path: "(payload)", message }] }]);
    }
    const results: (ReadingResult | undefined)[] = new Array(items.length);
    const submitted: { index: number; item: unknown }[] = [];
    for (const [index, item] of items.entries()) {
      const meter = typeof item === "object" && item !== null ? (item as { meter?: unknown }).meter : undefined;
      if (typeof meter === "string" && meter.toLowerCase() !== topicMeter.toLowerCase()) {
        results[index] = {
          status: "rejected",
          code: "topic_meter_mismatch",
          message: `readings[${index}].meter ${meter} is not the meter of topic ${packet.topic}`,
        };
      } else submitted.push({ index, item });
    }
    if (submitted.length > 0) {
      const stored = await gateway.submit(submitted.map((s) => s.item));
      for (const [k, s] of submitted.entries()) results[s.index] = stored[k];
    }
    answer(results as ReadingResult[]);
  }

  client.handleMessage = (packet, callback) => {
    handle(packet).then(
      () => callback(),
      (error: Error) => {
        // Not stored, so not acknowledged: reconnecting makes the broker deliver it again.
        log(`mqtt: could not store the message on ${packet.topic} (${error.message}); reconnecting so the broker redelivers it`);
        callback(error);
        if (!closing) setTimeout(() => client.stream?.destroy(), 1_000);
      },
    );
  };
  let subscribed: (() => void) | undefined;
  client.on("connect", (connack) => {
    if (!connack.sessionPresent) log(`mqtt: connected to ${options.url}, new session`);
    client.subscribe(subscription, { qos: 1 }, (error) => {
      if (error) log(`mqtt: subscribing to ${subscription} failed: ${error.message}`);
      else subscribed?.();
    });
  });
  client.on("error", (error) => log(`mqtt: ${error.message}`));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      subscribed = undefined;
      client.end(true);
      reject(error);
    };
    subscribed = () => {
      subscribed = undefined;
      client.removeListener("error", onError);
      resolve();
    };
    client.once("error", onError);
  });
  return {
    async close() {
      closing = true;
      await client.endAsync();
    },
  };
}
