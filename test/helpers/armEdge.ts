/**
 * An HTTPS hop in front of the simulator: every request is passed on to it unchanged and its answer comes
 * back unchanged, unless the test's `intercept` answers or rewrites it. Faults the simulator has no switch
 * for (a repeated skiptoken, one 503 on one identity's page) are injected here, at the network edge, while
 * the simulator stays the source of truth for everything else.
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import type { RunningSimulator } from "../../simulator/index.js";
import { startTestServer, type RecordedRequest, type Reply, type TestServer } from "../arm/support/testServer.js";

/** The simulator's answer to a request, as the edge received it. */
export interface UpstreamReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Intercept = (req: RecordedRequest, forward: () => Promise<UpstreamReply>) => Promise<Reply>;

export interface ArmEdge {
  endpoint: string;
  /** The edge's certificate (PEM), for `createArmConnection({ ca })`. */
  ca: string;
  /** Every request the edge received, in order. */
  requests: RecordedRequest[];
  setIntercept(intercept: Intercept | undefined): void;
  close(): Promise<void>;
}

/** Headers that describe one hop's connection, not the message. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"]);

function forwardTo(sim: RunningSimulator, ca: string, req: RecordedRequest): Promise<UpstreamReply> {
  const target = new URL(req.url, sim.endpoint);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string" && !HOP_HEADERS.has(name)) headers[name] = value;
  return new Promise((resolve, reject) => {
    const upstream = request(target, { method: req.method, headers: { ...headers, "content-length": String(Buffer.byteLength(req.body)) }, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === "string" && !HOP_HEADERS.has(name)) out[name] = value;
        resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    upstream.on("error", reject);
    upstream.end(req.body);
  });
}

export async function startArmEdge(sim: RunningSimulator): Promise<ArmEdge> {
  const simCa = readFileSync(sim.caFile, "utf8");
  let intercept: Intercept | undefined;
  const server: TestServer = await startTestServer((req) => {
    const forward = () => forwardTo(sim, simCa, req);
    if (intercept) return intercept(req, forward);
    return forward();
  });
  return {
    endpoint: server.endpoint,
    ca: server.ca,
    requests: server.requests,
    setIntercept(next) {
      intercept = next;
    },
    close: () => server.close(),
  };
}

/** True for a listAssociatedResources request about this identity. */
export function isListAssociated(req: RecordedRequest, identityId: string): boolean {
  return req.method === "POST" && decodeURIComponent(req.path).toLowerCase() === `${identityId}/listAssociatedResources`.toLowerCase();
}
