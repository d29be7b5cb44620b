/** Request-rate figures from the simulator's request log. */

export interface RequestRate {
  count: number;
  /** Seconds between the first and the last request. */
  spanSeconds: number;
  /** (count - 1) / span: the rate achieved between the first and the last request. */
  perSecond: number;
  /** Most requests that arrived within any one-second window (sliding). */
  maxInAnySecond: number;
}

export function requestRate(arrivals: number[]): RequestRate {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let maxInAnySecond = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= 1000) start++;
    maxInAnySecond = Math.max(maxInAnySecond, end - start + 1);
  }
  const spanSeconds = sorted.length > 1 ? ((sorted[sorted.length - 1] as number) - (sorted[0] as number)) / 1000 : 0;
  return { count: sorted.length, spanSeconds, perSecond: spanSeconds > 0 ? (sorted.length - 1) / spanSeconds : 0, maxInAnySecond };
}
