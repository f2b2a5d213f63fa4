/** How the market cuts time: interval = floor(unixSeconds / lengthSeconds). */
export type IntervalTiming = {
  intervalSeconds: bigint;
  /** After an interval ends, readings are accepted for this long; then it can be settled. */
  readingWindowSeconds: bigint;
};

/**
 * The interval containing `unixSeconds`.
 * @example intervalAt(1_800n, { intervalSeconds: 900n, readingWindowSeconds: 300n }) // 2n
 */
export function intervalAt(unixSeconds: bigint, timing: IntervalTiming): bigint {
  return unixSeconds / timing.intervalSeconds;
}

/**
 * When `interval` starts, ends, and its reading window closes (unix seconds). Readings are accepted in
 * [endsAt, closesAt); settlement is possible from closesAt.
 * @example intervalBounds(2n, { intervalSeconds: 900n, readingWindowSeconds: 300n })
 * // { startsAt: 1800n, endsAt: 2700n, closesAt: 3000n }
 */
export function intervalBounds(interval: bigint, timing: IntervalTiming) {
  const startsAt = interval * timing.intervalSeconds;
  const endsAt = startsAt + timing.intervalSeconds;
  return { startsAt, endsAt, closesAt: endsAt + timing.readingWindowSeconds };
}
