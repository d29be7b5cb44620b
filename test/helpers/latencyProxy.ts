/**
 * A TCP proxy on loopback that delays every chunk, in both directions, by a random latency: storage
 * latency injected at the network edge, in front of a real Azurite, so the code under test runs unchanged.
 * Order within a connection is kept (a chunk never overtakes the one before it).
 */
import net from "node:net";

export interface LatencyProxy {
  port: number;
  /** Changes the latency range for data sent from now on. */
  setLatency(minMs: number, maxMs: number): void;
  close(): Promise<void>;
}

export async function startLatencyProxy(target: { host: string; port: number }, latency: { minMs: number; maxMs: number }): Promise<LatencyProxy> {
  let { minMs, maxMs } = latency;
  const sockets = new Set<net.Socket>();
  const delayed = (from: net.Socket, to: net.Socket) => {
    let lastDelivery = 0;
    from.on("data", (chunk: Buffer) => {
      const at = Math.max(lastDelivery, Date.now() + minMs + Math.random() * (maxMs - minMs));
      lastDelivery = at;
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, at - Date.now());
    });
    from.on("end", () => setTimeout(() => to.end(), Math.max(0, lastDelivery - Date.now())));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    delayed(client, upstream);
    delayed(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("latency proxy: no port");
  return {
    port: address.port,
    setLatency(min, max) {
      minMs = min;
      maxMs = max;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The connection string with one service's endpoint moved to another local port (the proxy's). */
export function withServicePort(connectionString: string, service: "Blob" | "Queue" | "Table", port: number): string {
  const pattern = new RegExp(`(${service}Endpoint=https?://[^:/;]+:)(\\d+)`);
  if (!pattern.test(connectionString)) throw new Error(`No ${service}Endpoint with a port in the connection string`);
  return connectionString.replace(pattern, `$1${port}`);
}

/** The host and port of one service in a connection string. */
export function servicePort(connectionString: string, service: "Blob" | "Queue" | "Table"): { host: string; port: number } {
  const match = new RegExp(`${service}Endpoint=https?://([^:/;]+):(\\d+)`).exec(connectionString);
  if (!match) throw new Error(`No ${service}Endpoint with a port in the connection string`);
  return { host: match[1]!, port: Number(match[2]) };
}
