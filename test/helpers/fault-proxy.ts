import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy on 127.0.0.1 that a test puts between the server and a backing service to fake outages. */
export interface FaultProxy {
  port: number;
  host: string;
  /** Resets every open connection and every new one until restore(): the service is gone. */
  cut(): void;
  /** Keeps connections open but holds every byte in both directions until restore(): the network hangs. */
  stall(): void;
  /** Passes traffic again (bytes held by stall() are delivered in order). */
  restore(): void;
  close(): Promise<void>;
}

type Mode = 'pass' | 'cut' | 'stall';

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Bytes (and an end, as null) held while stalled, per direction, delivered on restore. */
  held: { toUpstream: Array<Buffer | null>; toClient: Array<Buffer | null> };
}

/** Starts a proxy to `target`; connect to `host:port` instead of the target. */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: Mode = 'pass';
  const pairs = new Set<Pair>();

  const kill = (pair: Pair) => {
    pairs.delete(pair);
    // A reset (RST), not a polite FIN: what a peer sees when a database dies or a route drops. A
    // socket already ending is destroyed instead: resetting it with its shutdown still pending leaves
    // the native handle behind, and the test process then spins at exit instead of ending.
    for (const socket of [pair.client, pair.upstream]) {
      if (socket.destroyed) continue;
      if (socket.writableEnded) socket.destroy();
      else socket.resetAndDestroy();
    }
  };

  const forward = (pair: Pair, from: Socket, to: Socket, held: Array<Buffer | null>) => {
    from.on('data', (chunk: Buffer) => {
      if (mode === 'stall') held.push(chunk);
      else if (mode === 'pass') to.write(chunk);
    });
    from.on('end', () => (mode === 'stall' ? held.push(null) : to.end()));
    from.on('error', () => kill(pair));
    from.on('close', () => kill(pair));
  };

  const server = createServer((client) => {
    if (mode === 'cut') {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, held: { toUpstream: [], toClient: [] } };
    pairs.add(pair);
    forward(pair, client, upstream, pair.held.toUpstream);
    forward(pair, upstream, client, pair.held.toClient);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    port,
    host: '127.0.0.1',
    cut() {
      mode = 'cut';
      for (const pair of [...pairs]) kill(pair);
    },
    stall() {
      mode = 'stall';
    },
    restore() {
      mode = 'pass';
      const deliver = (held: Array<Buffer | null>, to: Socket) => {
        for (const chunk of held.splice(0)) {
          if (chunk) to.write(chunk);
          else to.end();
        }
      };
      for (const pair of pairs) {
        deliver(pair.held.toUpstream, pair.upstream);
        deliver(pair.held.toClient, pair.client);
      }
    },
    async close() {
      mode = 'cut';
      for (const pair of [...pairs]) kill(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A fault proxy in front of the service a URL names (`defaultPort` when it names none), and that URL pointing through it. */
export async function proxyInFront(url: string, defaultPort: number): Promise<{ proxy: FaultProxy; url: URL }> {
  const target = new URL(url);
  const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || defaultPort) });
  target.host = `${proxy.host}:${proxy.port}`;
  return { proxy, url: target };
}
