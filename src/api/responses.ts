/** HTTP answers of the API, independent of Azure Functions (the function files map them 1:1). */

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON body, serialised by the caller. */
  json?: unknown;
  /** Raw body (reports in CSV, Markdown, HTML). */
  body?: string;
}

/** RFC 9457 problem details: every 4xx says what was wrong, in a shape clients can parse. */
export function problem(status: number, title: string, detail: string, extra: Record<string, unknown> = {}): ApiResponse {
  return {
    status,
    headers: { "content-type": "application/problem+json" },
    json: { type: "about:blank", title, status, detail, ...extra },
  };
}

export class ApiProblem extends Error {
  constructor(readonly response: ApiResponse) {
    super(String((response.json as { detail?: string } | undefined)?.detail ?? "problem"));
  }
}

export const badRequest = (detail: string, extra?: Record<string, unknown>) => new ApiProblem(problem(400, "Bad Request", detail, extra));
export const notFound = (detail: string) => new ApiProblem(problem(404, "Not Found", detail));
export const payloadTooLarge = (detail: string) => new ApiProblem(problem(413, "Content Too Large", detail));
export const unsupportedMediaType = (detail: string) => new ApiProblem(problem(415, "Unsupported Media Type", detail));
