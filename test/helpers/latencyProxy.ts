/**
 * A TCP proxy on loopback that delays every chunk, in both directions, by a random latency: storage
 * latency injected at the network edge, in front of a real Azurite, so the code under test runs unchanged.
 * Order within a connection is kept (a chunk never overtakes the one before it).
 *
 * It also stages outages (`cut`): `reset` tears down every open connection with a TCP RST and resets each
 * new one as soon as it is accepted (clients see `socket hang up` / `ECONNRESET`, as when a storage front
 * end goes away); `blackhole` keeps connections open but drops every byte both ways (a partition that sends
 * no RST). `restore` ends the outage and resets the connections that lived through it (bytes were lost, as a
 * server that timed them out would); connections opened after it work.
 */
import net from "node:net";

export type OutageMode = "reset" | "blackhole";

export interface LatencyProxy {
  port: number;
  /** Changes the latency range for data sent from now on. */
  setLatency(minMs: number, maxMs: number): void;
  /** Starts an outage (see the file comment). */
  cut(mode?: OutageMode): void;
  /** Ends the outage. */
  restore(): void;
  /** Connections accepted and refused (reset, or swallowed) while cut, for a test to prove the outage was felt. */
  readonly refusedConnections: number;
  close(): Promise<void>;
}

export async function startLatencyProxy(target: { host: string; port: number }, latency: { minMs: number; maxMs: number }): Promise<LatencyProxy> {
  let { minMs, maxMs } = latency;
  let outage: OutageMode | undefined;
  let refusedConnections = 0;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  const delayed = (from: net.Socket, to: net.Socket) => {
    let lastDelivery = 0;
    from.on("data", (chunk: Buffer) => {
      // Bytes that arrive during a blackhole are lost, as on a dead link (a reset tears the pair down anyway).
      if (outage) return;
      const at = Math.max(lastDelivery, Date.now() + minMs + Math.random() * (maxMs - minMs));
      lastDelivery = at;
      setTimeout(() => {
        if (!to.destroyed && !outage) to.write(chunk);
      }, at - Date.now());
    });
    from.on("end", () => setTimeout(() => to.end(), Math.max(0, lastDelivery - Date.now())));
  };
  const server = net.createServer((client) => {
    track(client);
    client.on("error", () => client.destroy());
    if (outage === "reset") {
      refusedConnections++;
      client.resetAndDestroy();
      return;
    }
    if (outage === "blackhole") {
      refusedConnections++;
      client.on("data", () => {});
      return;
    }
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    for (const socket of [client, upstream]) {
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
    cut(mode = "reset") {
      outage = mode;
      if (mode === "reset") for (const socket of sockets) socket.resetAndDestroy();
    },
    restore() {
      outage = undefined;
      // Connections that lived through a blackhole lost bytes mid-stream: they cannot carry HTTP any more.
      for (const socket of sockets) socket.destroy();
    },
    get refusedConnections() {
      return refusedConnections;
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

/** One proxy per storage service (blob, queue, table) and the connection string that goes through them. */
export interface StorageProxies {
  connectionString: string;
  proxies: LatencyProxy[];
  cut(mode?: OutageMode): void;
  restore(): void;
  refusedConnections(): number;
  close(): Promise<void>;
}

export async function proxyStorage(connectionString: string, latency: { minMs: number; maxMs: number } = { minMs: 0, maxMs: 0 }): Promise<StorageProxies> {
  const services = ["Blob", "Queue", "Table"] as const;
  const proxies = await Promise.all(services.map((service) => startLatencyProxy(servicePort(connectionString, service), latency)));
  let proxied = connectionString;
  services.forEach((service, k) => (proxied = withServicePort(proxied, service, proxies[k]!.port)));
  return {
    connectionString: proxied,
    proxies,
    cut: (mode) => proxies.forEach((p) => p.cut(mode)),
    restore: () => proxies.forEach((p) => p.restore()),
    refusedConnections: () => proxies.reduce((sum, p) => sum + p.refusedConnections, 0),
    close: async () => {
      await Promise.all(proxies.map((p) => p.close()));
    },
  };
}
