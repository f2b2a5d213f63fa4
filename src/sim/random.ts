/**
 * Small seeded pseudo-random numbers for the simulator.
 *
 * Two flavours:
 * - `createRandom(seed)`: a sequential generator (mulberry32 on a 32-bit state)
 *   for one-off draws such as generating a household's attributes.
 * - `hash32` / `hashUnit` / `hashNormal`: values derived directly from
 *   (seed, label, …) without any sequential state. Anything that must be a pure
 *   function of (seed, household, time) — weather, per-interval noise — uses these,
 *   so results never depend on the order of calls.
 *
 * Not cryptographic; statistical quality is ample for a simulation.
 */

/**
 * A seed: any number or string. Numbers are hashed by their decimal text, so `1` and `"1"` are the same seed.
 *
 * @example
 * const seeds: Seed[] = ["community-1", 42];
 */
export type Seed = number | string;

/**
 * A sequential seeded generator.
 *
 * @example
 * const rng: Random = createRandom("demo");
 * rng.next(); // [0, 1)
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (mean 0, standard deviation 1), Box–Muller from two `next()` draws. */
  normal(): number;
  /**
   * An independent generator derived from this generator's seed and `label` only
   * (not from how many values were drawn so far).
   */
  fork(label: string): Random;
}

const TWO_POW_32 = 4294967296;

/** Murmur3 32-bit finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Hash any list of numbers/strings to an unsigned 32-bit integer
 * (FNV-1a over the UTF-16 code units of the parts, separated by U+001F, then
 * the murmur3 finaliser).
 *
 * @example
 * hash32("community-1", "house", 7) === hash32("community-1", "house", 7); // true
 * hash32("a", "bc") !== hash32("ab", "c"); // true: parts are separated
 */
export function hash32(...parts: readonly Seed[]): number {
  let h = 0x811c9dc5;
  for (let p = 0; p < parts.length; p++) {
    const text = (p > 0 ? "\u001f" : "") + String(parts[p]);
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return fmix32(h);
}

/**
 * A uniform value in [0, 1) derived from the parts alone (no sequential state).
 *
 * @example
 * const u = hashUnit("seed", "sky", 19_876); // same arguments → same u, always
 */
export function hashUnit(...parts: readonly Seed[]): number {
  return hash32(...parts) / TWO_POW_32;
}

/**
 * A standard normal value derived from the parts alone (no sequential state).
 *
 * @example
 * const z = hashNormal("house-seed", "load-noise", 2_000_000); // ~N(0, 1)
 */
export function hashNormal(...parts: readonly Seed[]): number {
  return createRandom(hash32(...parts)).normal();
}

/**
 * Create a seeded generator (mulberry32 on a 32-bit state).
 *
 * @example
 * const rng = createRandom("community-1");
 * const u = rng.next();            // [0, 1)
 * const z = rng.normal();          // ~N(0, 1)
 * const houses = rng.fork("houses"); // independent stream, same every run
 */
export function createRandom(seed: Seed): Random {
  const root = hash32(seed);
  let state = root;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
  };
  return {
    next,
    normal(): number {
      const u1 = 1 - next(); // (0, 1]: log(u1) is finite
      const u2 = next();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
    fork(label: string): Random {
      return createRandom(hash32(root, "fork", label));
    },
  };
}
