/**
 * A local HTTPS server that plays ARM for one test: it records every request exactly as received and
 * answers from a handler. Its certificate is self-signed (the `selfsigned` package) and handed to the
 * client as `ca`, the way the simulator's is.
 */
import { createServer, type Server } from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { generate } from "selfsigned";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { createArmConnection, type ArmConnection } from "../../../src/arm/connection.js";

export interface RecordedRequest {
  method: string;
  /** The request target exactly as sent: path and raw (still percent-encoded) query. */
  url: string;
  /** Path before `?`, still percent-encoded. */
  path: string;
  /** The raw query string without `?` ("" when none). */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as is. */
  body?: string | object;
  /** Destroy the socket instead of answering (a network failure). */
  destroy?: boolean;
}

export type Handler = (req: RecordedRequest, index: number) => Reply | Promise<Reply>;

export interface TestServer {
  endpoint: string;
  ca: string;
  requests: RecordedRequest[];
  setHandler(handler: Handler): void;
  close(): Promise<void>;
}

let certificate: Promise<{ cert: string; key: string }> | undefined;

function testCertificate(): Promise<{ cert: string; key: string }> {
  certificate ??= generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] },
    ],
  }).then((pems) => ({ cert: pems.cert, key: pems.private }));
  return certificate;
}

/** Query parameters of a recorded request, percent-decoded once (as any server framework would). */
export function queryOf(req: RecordedRequest): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of req.rawQuery.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    out.set(name, decodeURIComponent(eq < 0 ? "" : pair.slice(eq + 1)));
  }
  return out;
}

export async function startTestServer(handler: Handler = () => ({ status: 404 })): Promise<TestServer> {
  const { cert, key } = await testCertificate();
  const requests: RecordedRequest[] = [];
  let current = handler;
  const server: Server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        url,
        path: q < 0 ? url : url.slice(0, q),
        rawQuery: q < 0 ? "" : url.slice(q + 1),
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      const index = requests.push(recorded) - 1;
      Promise.resolve(current(recorded, index))
        .then((reply) => {
          if (reply.destroy) {
            req.socket.destroy();
            return;
          }
          const body = reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
          res.writeHead(reply.status ?? 200, {
            ...(typeof reply.body === "object" ? { "content-type": "application/json; charset=utf-8" } : {}),
            ...reply.headers,
          });
          res.end(body);
        })
        .catch((e: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`test handler failed: ${String(e)}`);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    ca: cert,
    requests,
    setHandler(next) {
      current = next;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * One local ARM server per test file, with a client connection to it: started before the file's tests,
 * closed after them, its request log emptied before each test. `serve` answers the replies in order,
 * repeating the last one.
 */
export function useArmTestServer(token: string): { readonly server: TestServer; readonly conn: ArmConnection; serve(...replies: Reply[]): void } {
  let server: TestServer | undefined;
  let conn: ArmConnection | undefined;
  beforeAll(async () => {
    server = await startTestServer();
    conn = createArmConnection({ endpoint: server.endpoint, token, ca: server.ca });
  });
  afterAll(() => server?.close());
  beforeEach(() => {
    if (server) server.requests.length = 0;
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the ARM test server is used before beforeAll started it");
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get conn() {
      return started(conn);
    },
    serve(...replies: Reply[]) {
      started(server).setHandler((_req, i) => replies[Math.min(i, replies.length - 1)] ?? { status: 500 });
    },
  };
}
