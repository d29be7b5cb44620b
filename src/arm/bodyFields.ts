/**
 * Small readers for fields of untrusted JSON bodies. Each failure is a `MalformedResponse` ArmError naming
 * the field (and the item, for lists), so a bad response says exactly what was wrong with it.
 */
import { malformedBody, type ResponseContext } from "./errors.js";

export type JsonObject = Record<string, unknown>;

export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/** A short description of a value for an error message: its JSON, truncated. */
export function show(value: unknown): string {
  if (value === undefined) return "undefined";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

export function requireObject(ctx: ResponseContext, value: unknown, what: string): JsonObject {
  const obj = asObject(value);
  if (!obj) throw malformedBody(ctx, `${what} is not a JSON object: ${show(value)}`);
  return obj;
}

export function requireString(ctx: ResponseContext, obj: JsonObject, field: string, where: string): string {
  const value = obj[field];
  if (typeof value !== "string" || value === "") {
    throw malformedBody(ctx, `${where}: field "${field}" must be a non-empty string, got ${show(value)}`);
  }
  return value;
}

/** A string field that may be missing or null (then `fallback`), but not of another type. */
export function optionalString(
  ctx: ResponseContext,
  obj: JsonObject,
  field: string,
  where: string,
  fallback: string,
): string {
  const value = obj[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "string") {
    throw malformedBody(ctx, `${where}: field "${field}" must be a string, got ${show(value)}`);
  }
  return value;
}

/** ARM tags: an object of strings; missing or null means none. */
export function parseTags(ctx: ResponseContext, value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const obj = asObject(value);
  if (!obj) throw malformedBody(ctx, `${where}: tags must be an object, got ${show(value)}`);
  const tags: Record<string, string> = {};
  for (const [key, tagValue] of Object.entries(obj)) {
    if (typeof tagValue !== "string") {
      throw malformedBody(ctx, `${where}: tag "${key}" must be a string, got ${show(tagValue)}`);
    }
    tags[key] = tagValue;
  }
  return tags;
}
