/**
 * A scripted CloudEvent receiver on loopback for KafkaSource tests: it parses
 * each POST, records it, and answers what the test's `respond` says (a status,
 * possibly after a promise the test controls).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AnyParleyEvent, fromHttp } from '../cloudevent';

export interface Received {
  event: AnyParleyEvent;
  /** 1 for the first delivery of this event id, 2 for the next… */
  attempt: number;
}

export interface SinkServer {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

export async function startSinkServer(
  respond: (event: AnyParleyEvent, attempt: number) => number | Promise<number> = () => 202,
): Promise<SinkServer> {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        const event = fromHttp(headers, Buffer.concat(chunks).toString());
        const attempt = (attempts.get(event.id) ?? 0) + 1;
        attempts.set(event.id, attempt);
        received.push({ event, attempt });
        const status = await respond(event, attempt);
        res
          .writeHead(status, { 'content-type': 'application/json' })
          .end(status >= 300 ? `{"error":{"code":"test","message":"status ${status}"}}` : '');
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
