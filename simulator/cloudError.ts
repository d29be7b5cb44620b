/**
 * ARM's error envelope, `CloudError {error:{code,message,target,details[]}}` (reference:
 * seeds/003_35fe0356a105438c.txt and the MSI swagger's `CloudError`), and the exact bodies ARM and the
 * resource providers send for the situations the simulator reproduces.
 */

export interface CloudErrorBody {
  code: string;
  message: string;
  target?: string;
  details?: CloudErrorBody[];
}

export interface CloudError {
  error: CloudErrorBody;
}

/** A JSON reply with status, extra headers and body; the server adds the common ARM headers. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export function cloudError(status: number, code: string, message: string, extra?: Partial<Omit<CloudErrorBody, "code" | "message">>): Reply {
  const error: CloudErrorBody = { code, message, ...extra };
  return { status, body: { error } satisfies CloudError };
}

/**
 * ARM's answer when the Authorization header is missing. The WWW-Authenticate challenge is what ARM
 * sends, so clients that parse it (the Azure SDK's bearer policy does) behave as against Azure.
 */
export function missingAuthorization(): Reply {
  return {
    status: 401,
    headers: {
      "www-authenticate":
        'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
    },
    body: { error: { code: "AuthenticationFailed", message: "Authentication failed. The 'Authorization' header is missing." } },
  };
}

export function invalidToken(): Reply {
  return {
    status: 401,
    headers: {
      "www-authenticate":
        'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The access token is invalid."',
    },
    body: { error: { code: "InvalidAuthenticationToken", message: "The access token is invalid." } },
  };
}

export function missingApiVersion(): Reply {
  return cloudError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
}

/**
 * ARM's answer to an api-version the resource type does not know. ARM lists the versions it would have
 * accepted, which is what makes the message actionable.
 */
export function noRegisteredProvider(apiVersion: string, resourceType: string, supported: readonly string[], location = "global"): Reply {
  return cloudError(
    400,
    "NoRegisteredProviderFound",
    `No registered resource provider found for location '${location}' and API version '${apiVersion}' for type '${resourceType}'. ` +
      `The supported api-versions are '${supported.join(", ")}'. The supported locations are 'eastus, westus, westeurope, northeurope, centralus, japaneast, southeastasia'.`,
  );
}

export function invalidApiVersion(apiVersion: string, supported: readonly string[]): Reply {
  return cloudError(
    400,
    "InvalidApiVersionParameter",
    `The api-version '${apiVersion}' is invalid. The supported versions are '${supported.join(",")}'.`,
  );
}

/** Exact text of the MSI resource provider's 404 (the brief quotes it; ARM's "ResourceNotFound"). */
export function identityNotFound(name: string, resourceGroup: string): Reply {
  return cloudError(
    404,
    "ResourceNotFound",
    `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${name}' under resource group '${resourceGroup}' was not found. ` +
      "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
  );
}

export function resourceGroupNotFound(resourceGroup: string): Reply {
  return cloudError(404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`);
}

export function subscriptionNotFound(subscriptionId: string): Reply {
  return cloudError(404, "SubscriptionNotFound", `The subscription '${subscriptionId}' could not be found.`);
}

/**
 * A token of one tenant used on a subscription of another: ARM checks the token's issuer against the
 * subscription's tenant before any RBAC check, and answers 401 InvalidAuthenticationTokenTenant (message
 * as Azure writes it, seen in many public reports).
 */
export function wrongIssuer(tokenTenantId: string, subscriptionTenantId: string): Reply {
  return {
    status: 401,
    headers: {
      "www-authenticate": `Bearer authorization_uri="https://login.windows.net/${subscriptionTenantId}", error="invalid_token", error_description="The access token is from the wrong issuer."`,
    },
    body: {
      error: {
        code: "InvalidAuthenticationTokenTenant",
        message:
          `The access token is from the wrong issuer 'https://sts.windows.net/${tokenTenantId}/'. It must match the tenant ` +
          `'https://sts.windows.net/${subscriptionTenantId}/' associated with this subscription. Please use the authority (URL) ` +
          `'https://login.windows.net/${subscriptionTenantId}' to get the token. Note, if the subscription is transferred to another ` +
          "tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). " +
          "If you just transferred your subscription and see this error message, please try back later.",
      },
    },
  };
}

export function pathNotFound(url: string): Reply {
  return cloudError(404, "NotFound", `No HTTP resource was found that matches the request URI '${url}'.`);
}

export function invalidResourceType(resourceType: string, namespace: string, apiVersion: string): Reply {
  return cloudError(
    404,
    "InvalidResourceType",
    `The resource type '${resourceType}' could not be found in the namespace '${namespace}' for api version '${apiVersion}'.`,
  );
}

export function methodNotAllowed(method: string): Reply {
  return cloudError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`);
}

/** The 500/503 bodies used by fault injection and `failIdentity`. */
export function serverError(status: number, correlationId: string, now: Date): Reply {
  if (status === 503) {
    return cloudError(503, "ServiceUnavailable", "The server is currently unable to handle the request. Please retry the request later.");
  }
  return cloudError(
    status,
    "InternalServerError",
    `Encountered internal server error. Diagnostic information: timestamp '${compactTimestamp(now)}', tracking id '${correlationId}', request correlation id '${correlationId}'.`,
  );
}

/** A CloudError for an arbitrary status, used by `failIdentity(id, status)`. */
export function errorForStatus(status: number, correlationId: string, now: Date): Reply {
  switch (status) {
    case 400:
      return cloudError(400, "BadRequest", "The request is invalid (injected by the simulator).");
    case 401:
      return invalidToken();
    case 403:
      return cloudError(403, "AuthorizationFailed", "The client does not have authorization to perform this action (injected by the simulator).");
    case 404:
      return cloudError(404, "ResourceNotFound", "The resource was not found (injected by the simulator).");
    case 409:
      return cloudError(409, "Conflict", "The request conflicts with the current state of the resource (injected by the simulator).");
    case 429:
      return { ...cloudError(429, "TooManyRequests", "The request is throttled (injected by the simulator)."), headers: { "retry-after": "1" } };
    default:
      if (status >= 500) return serverError(status, correlationId, now);
      return cloudError(status, `Error${status}`, `The simulator was told to answer ${status} for this identity.`);
  }
}

/** 20230207T164417Z: ARM's compact timestamp in diagnostic messages and x-ms-routing-request-id. */
export function compactTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}
