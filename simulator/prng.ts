/**
 * Deterministic randomness for the tenant generator. Everything the simulator invents (tenant ids, names,
 * association counts, GUIDs) comes from here so that the same seed always yields the same tenant;
 * `Math.random` is never used for generated data.
 */

/** cyrb128: a fast string hash giving four 32-bit words, used to seed `Prng` from any string. */
export function hashString(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044597);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044597);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/**
 * A stateless 32-bit mix of a few integers (murmur3's finaliser over a running hash). Lets the simulator
 * regenerate "association k of identity i" on demand instead of storing a million records.
 */
export function mix32(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const value of values) {
    h = Math.imul(h ^ (value >>> 0), 0x85ebca6b);
    h = (h << 13) | (h >>> 19);
    h = Math.imul(h, 5) + 0xe6546b64;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** sfc32, a small fast generator with a 128-bit state; good enough statistics for test data. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    [this.a, this.b, this.c, this.d] = hashString(seed);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick() from an empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight: `[[value, weight], ...]`. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    return pickWeighted(choices, this.next());
  }

  /** A GUID formatted as Azure prints them (lower-case, version 4 bits set). */
  uuid(): string {
    return formatUuid(this.nextUint32(), this.nextUint32(), this.nextUint32(), this.nextUint32());
  }

  /** Fisher-Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

/** Picks from weighted choices with a uniform draw `u` in [0, 1). */
export function pickWeighted<T>(choices: readonly (readonly [T, number])[], u: number): T {
  let total = 0;
  for (const [, weight] of choices) total += weight;
  let target = u * total;
  for (const [value, weight] of choices) {
    if (target < weight) return value;
    target -= weight;
  }
  const last = choices[choices.length - 1];
  if (!last) throw new RangeError("weighted pick from an empty list");
  return last[0];
}

/**
 * Concatenates into one flat string. Template literals and `+` build V8 rope strings, which cost about
 * ten times the memory of the text when a hundred thousand ids and GUIDs are kept; `join` does not.
 */
export function join(...parts: string[]): string {
  return parts.join("");
}

/** Two hex digits per byte value; Number#toString(16) was a fifth of the time of generating 100k identities. */
const BYTE_HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

function hex16(value: number): string {
  return (BYTE_HEX[(value >>> 8) & 0xff] as string) + (BYTE_HEX[value & 0xff] as string);
}

function hex32(value: number): string {
  return hex16(value >>> 16) + hex16(value);
}

/** Formats four 32-bit words as a version-4 GUID. */
export function formatUuid(w0: number, w1: number, w2: number, w3: number): string {
  const versioned = ((w1 & 0xffff0fff) | 0x00004000) >>> 0;
  const variant = ((w2 & 0x3fffffff) | 0x80000000) >>> 0;
  return join(hex32(w0), "-", hex16(versioned >>> 16), "-", hex16(versioned), "-", hex16(variant >>> 16), "-", hex16(variant), hex32(w3));
}
