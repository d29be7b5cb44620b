/**
 * A minimal HTTPS client for the simulator's conformance tests: real TLS against the simulator's own
 * certificate, one keep-alive agent per client (two clients = two connection pools).
 */
import type { IncomingHttpHeaders } from "node:http";
import { Agent, request } from "node:https";

export interface SimResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body (undefined when empty). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests index into arbitrary JSON
}

export interface RequestOptions {
  /** Bearer token; `null` sends no Authorization header. */
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

export class SimClient {
  private readonly agent: Agent;

  constructor(
    private readonly endpoint: string,
    ca: string,
    private readonly token?: string,
  ) {
    this.agent = new Agent({ ca, keepAlive: true });
  }

  send(method: string, path: string, options: RequestOptions = {}): Promise<SimResponse> {
    const url = path.startsWith("https://") ? new URL(path) : new URL(`${this.endpoint}${path}`);
    const token = options.token === undefined ? this.token : options.token;
    const payload = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (payload !== undefined) headers["content-type"] = "application/json";
    headers["content-length"] = String(payload === undefined ? 0 : Buffer.byteLength(payload));
    return new Promise((resolve, reject) => {
      const req = request(url, { method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(payload);
    });
  }

  get(path: string, options?: RequestOptions): Promise<SimResponse> {
    return this.send("GET", path, options);
  }

  post(path: string, options?: RequestOptions): Promise<SimResponse> {
    return this.send("POST", path, options);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** `/subscriptions/.../userAssignedIdentities/{name}` with each segment encoded as the Azure SDK does. */
export function identityPath(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${encodeURIComponent(subscriptionId)}/resourceGroups/${encodeURIComponent(resourceGroup)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${encodeURIComponent(name)}`;
}
