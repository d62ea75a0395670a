import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookSender } from './webhook.ts';
import { isPrivateAddress } from './webhook-target.ts';

describe('webhook targets', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['8.8.8.8', false],
    ['::1', true],
    ['::', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['::ffff:10.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['2001:4860:4860::8888', false],
  ])('%s is private: %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});

describe('webhook sender', () => {
  let server: http.Server;
  let url = '';
  const bodies: unknown[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}/hook`;
  });
  afterAll(async () => new Promise((r) => server.close(r)));

  it('refuses a loopback target without retrying, by literal address and by name, unless private targets are allowed', async () => {
    const outcomes: string[] = [];
    const refused: string[] = [];
    let retries = 0;
    const guarded = createWebhookSender({ attempts: 3, baseDelayMs: 1, onOutcome: (o) => outcomes.push(o), onRetry: () => retries++, onRefused: (u) => refused.push(u) });
    expect(await guarded.send(url, { n: 1 })).toBe(false);
    const byName = url.replace('127.0.0.1', 'localhost');
    expect(await guarded.send(byName, { n: 2 })).toBe(false);
    expect(refused).toEqual([url, byName]);
    expect(retries).toBe(0);
    expect(bodies).toEqual([]);
    const allowed = createWebhookSender({ attempts: 3, baseDelayMs: 1, allowPrivate: true, onOutcome: (o) => outcomes.push(o) });
    expect(await allowed.send(url, { n: 3 })).toBe(true);
    expect(bodies).toEqual([{ n: 3 }]);
    expect(outcomes).toEqual(['failed', 'failed', 'delivered']);
    guarded.close();
    allowed.close();
  });
});
