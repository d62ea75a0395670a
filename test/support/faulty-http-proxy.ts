/**
 * An HTTP proxy on 127.0.0.1 (port picked at run time) in front of a ClickHouse server that
 * loses answers on purpose: for a request the `fault` function picks, it forwards the request
 * whole, lets the server finish it, and then either drops the connection without answering
 * ('drop') or holds the answer back for `delayMs` ('delay'), so a client with a shorter timeout
 * gives up on an insert that did happen.
 */
import http from 'node:http';
import type net from 'node:net';

export type Fault = 'none' | 'drop' | 'delay';

export interface FaultyProxy {
  url: string;
  /** Requests that got a fault, by kind. */
  faults: { drop: number; delay: number };
  /** Content-Encoding of every INSERT body seen ('' for none). */
  insertEncodings: Set<string>;
  close(): Promise<void>;
}

export interface FaultyProxyOptions {
  upstream: string;
  /** Decides per request (its decoded URL query and method). */
  fault: (query: string) => Fault;
  delayMs?: number;
}

export async function startFaultyProxy(opts: FaultyProxyOptions): Promise<FaultyProxy> {
  const upstream = new URL(opts.upstream);
  const faults = { drop: 0, delay: 0 };
  const insertEncodings = new Set<string>();
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const query = decodeURIComponent(new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '');
    const fault = opts.fault(query);
    if (query.startsWith('INSERT')) insertEncodings.add(String(req.headers['content-encoding'] ?? ''));
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          if (fault === 'drop') {
            faults.drop++;
            req.socket.destroy();
            return;
          }
          const send = (): void => {
            if (res.destroyed) return;
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
          };
          if (fault === 'delay') {
            faults.delay++;
            setTimeout(send, opts.delayMs ?? 1000);
          } else send();
        });
      },
    );
    forward.on('error', () => req.socket.destroy());
    req.pipe(forward);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    insertEncodings,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
