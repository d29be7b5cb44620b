/**
 * Table Storage keys for ARM resource ids.
 *
 * ARM ids contain `/` (forbidden in PartitionKey/RowKey, as are `\`, `#`, `?` and control characters)
 * and are case-insensitive (Azure returns `resourcegroups` and `resourceGroups` for the same identity).
 * A key is therefore the lower-cased id, percent-encoded with `encodeURIComponent`, with `%` written as
 * `$` so no key ever contains `%` (some HTTP stacks decode it twice in entity URLs). `$` itself is
 * encoded (`$24`) before that swap, so decoding is exact. See docs/decisions/0003-table-keys.md.
 */

/** Canonical form used for comparisons and keys: ARM ids compare case-insensitively. */
export function normaliseResourceId(id: string): string {
  return id.trim().toLowerCase();
}

export function encodeKey(value: string): string {
  // encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) unescaped; `'` and `*` are legal in keys and
  // are escaped by the OData filter builder where needed.
  const encoded = encodeURIComponent(value).replace(/%/g, "$");
  if (encoded.length > 1024) {
    throw new Error(`Table key too long (${encoded.length} chars > 1024) for value starting "${value.slice(0, 80)}"`);
  }
  return encoded;
}

export function decodeKey(key: string): string {
  return decodeURIComponent(key.replace(/\$/g, "%"));
}

/** The key of an identity across runs: its normalised ARM id, encoded. */
export function identityKey(id: string): string {
  return encodeKey(normaliseResourceId(id));
}

/**
 * Row keys that sort newest first: Table Storage returns rows in key order, and "latest run" and
 * "history newest first" are the common reads.
 */
export function invertedTimeKey(isoTime: string, tieBreaker: string): string {
  const ms = Date.parse(isoTime);
  if (Number.isNaN(ms)) throw new Error(`Not a timestamp: "${isoTime}"`);
  return `${String(9_999_999_999_999 - ms).padStart(13, "0")}_${encodeKey(tieBreaker)}`;
}
