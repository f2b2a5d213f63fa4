import type { LiveEvent, LiveFeed } from "./context.ts";

/**
 * An in-process live feed: the keeper or indexer publishes, every /api/live client receives. A
 * listener that throws is dropped rather than stopping the others.
 * @example const hub = createLiveHub(); buildApp({ …, live: hub }); hub.publish({ type: "clearing", data: { interval: "1979452" } })
 */
export function createLiveHub(): LiveFeed & { publish(event: LiveEvent): void; readonly listeners: number } {
  const listeners = new Set<(event: LiveEvent) => void>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    publish(event) {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch {
          listeners.delete(listener);
        }
      }
    },
    get listeners() {
      return listeners.size;
    },
  };
}
