/**
 * The two things a person acts with: a link to the identity in the Azure portal and the command that deletes
 * it. Both are built from values Azure returned, so both encode or quote every part.
 */

export const DEFAULT_PORTAL_BASE_URL = "https://portal.azure.com";

/**
 * Validates a portal base URL (https, no credentials, query or fragment) and returns it without a trailing
 * slash. Sovereign clouds use other hosts (portal.azure.us, portal.azure.cn), hence the option at all.
 */
export function normalizePortalBaseUrl(portalBaseUrl: string = DEFAULT_PORTAL_BASE_URL): string {
  let url: URL;
  try {
    url = new URL(portalBaseUrl);
  } catch {
    throw new TypeError(`Expected \`portalBaseUrl\` to be an absolute https URL, got ${JSON.stringify(portalBaseUrl)}`);
  }
  if (url.protocol !== "https:" || url.username || url.password || url.search || url.hash) {
    throw new TypeError(
      `Expected \`portalBaseUrl\` to be an https URL without credentials, query or fragment, got ${JSON.stringify(portalBaseUrl)}`,
    );
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

/**
 * `https://portal.azure.com/#@{tenantId}/resource{id}/overview`, every part percent-encoded (each ARM id
 * segment on its own, so the slashes stay). Parentheses and quotes are encoded too: resource group names may
 * contain them, and an unencoded `)` would end a Markdown link.
 */
export function portalUrlFor(tenantId: string, resourceId: string, portalBaseUrl: string = DEFAULT_PORTAL_BASE_URL): string {
  const base = normalizePortalBaseUrl(portalBaseUrl);
  const path = resourceId
    .split("/")
    .filter((segment) => segment !== "")
    .map(encodeUrlPart)
    .join("/");
  return `${base}/#@${encodeUrlPart(tenantId)}/resource/${path}/overview`;
}

/** `az identity delete --ids '<id>'`, quoted for POSIX shells so no character of the id is interpreted. */
export function deleteCommandFor(resourceId: string): string {
  return `az identity delete --ids ${shellQuote(resourceId)}`;
}

/** One POSIX shell word: single quotes keep everything literal; a single quote itself becomes '\''. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** encodeURIComponent plus the characters it leaves alone but that mean something in Markdown or HTML. */
export function encodeUrlPart(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
