import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeKey, encodeKey, identityKey, invertedTimeKey, normaliseResourceId } from "../../src/store/keys.js";

// Characters Table Storage forbids in PartitionKey/RowKey.
// eslint-disable-next-line no-control-regex -- the control characters are exactly what is checked
const FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

describe("table keys", () => {
  it("round-trips any string and never contains a forbidden character or %", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (value) => {
        const key = encodeKey(value);
        expect(FORBIDDEN.test(key)).toBe(false);
        expect(key.includes("%")).toBe(false);
        expect(decodeKey(key)).toBe(value);
      }),
      { numRuns: 500 },
    );
  });

  it("round-trips hostile but legal Azure names", () => {
    const ids = [
      "/subscriptions/0336439f-0e9d-44ec-975e-62accb9b3901/resourceGroups/rg-é-日本.(prod)_x/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id_1-a",
      "/subscriptions/x/resourcegroups/a$b%c'd/providers/Microsoft.ManagedIdentity/userAssignedIdentities/n",
    ];
    for (const id of ids) expect(decodeKey(identityKey(id))).toBe(normaliseResourceId(id));
  });

  it("maps the casings Azure returns for one identity to one key", () => {
    const a = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Name";
    const b = "/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/name";
    expect(identityKey(a)).toBe(identityKey(b));
    expect(identityKey(a)).not.toBe(identityKey(a.replace("Name", "Other")));
  });

  it("sorts newer times first", () => {
    const older = invertedTimeKey("2026-01-01T00:00:00Z", "r1");
    const newer = invertedTimeKey("2026-06-01T00:00:00Z", "r2");
    expect(newer < older).toBe(true);
    expect(() => invertedTimeKey("not a date", "r")).toThrow(/Not a timestamp/);
  });

  it("refuses keys over the 1 KiB limit with a clear error", () => {
    expect(() => encodeKey("x".repeat(2000))).toThrow(/too long/);
  });
});
