import { describe, expect, it } from 'vitest';
import { scanLine } from './fast-scanner.ts';
import { F, K_ABSENT, K_FALSE, K_NULL, K_NUMBER, K_STRING, K_TRUE, createRawEvent, rawString } from './raw-event.ts';

function scan(text: string): { ok: boolean; raw: ReturnType<typeof createRawEvent> } {
  const buf = Buffer.from(`${text}\n`);
  const raw = createRawEvent();
  return { ok: scanLine(buf, 0, buf.length - 1, raw), raw };
}

describe('scanLine', () => {
  it('reads a typical flat event itself (the fast path the property tests compare)', () => {
    const { ok, raw } = scan(
      '{"timestamp":1700000000.25,"service":"shop","status":200,"shield":true,"ipv6":false,"waf":null,"path":"/a\\"b","extra":"x","n":-1.5e-3}',
    );
    expect(ok).toBe(true);
    expect(raw.kind[F.timestamp]).toBe(K_NUMBER);
    expect(raw.num[F.timestamp]).toBe(1_700_000_000.25);
    expect(raw.kind[F.service]).toBe(K_STRING);
    expect(rawString(raw, F.service)).toBe('shop');
    expect([raw.kind[F.shield], raw.kind[F.ipv6], raw.kind[F.waf], raw.kind[F.path], raw.kind[F.domain]]).toEqual([K_TRUE, K_FALSE, K_NULL, K_STRING, K_ABSENT]);
  });

  it('decodes an escaped path or client_ip itself (no fallback of the line), and reads a plain one from the bytes', () => {
    const { ok, raw } = scan('{"service":"shop","path":"\\/img\\/a.png?x=1","client_ip":"10.0.0.1"}');
    expect(ok).toBe(true);
    expect(rawString(raw, F.path)).toBe('/img/a.png?x=1');
    expect(raw.start[F.path]).toBe(-1);
    expect(rawString(raw, F.client_ip)).toBe('10.0.0.1');
    expect(raw.start[F.client_ip]).toBeGreaterThan(0);
    // Any other field read with an escape is still JSON.parse's to decide.
    expect(scan('{"service":"sh\\u006fp"}').ok).toBe(false);
  });

  it('reads the same keys in the same order again (the key-order guess) and in a new order', () => {
    const raw = createRawEvent();
    for (const text of ['{"status":200,"service":"a"}', '{"status":201,"service":"b"}', '{"service":"c","status":202}']) {
      const buf = Buffer.from(text);
      expect(scanLine(buf, 0, buf.length, raw)).toBe(true);
      expect([raw.num[F.status], rawString(raw, F.service)]).toEqual([Number(text.match(/\d+/)?.[0]), text.match(/"([a-c])"/)?.[1]]);
    }
  });

  it.each([
    ['a nested value', '{"x":{"a":1}}'],
    ['an escape in a value the validator reads', '{"service":"\\u0073hop"}'],
    ['a non-ASCII byte', '{"path":"é"}'],
    ['a duplicated known key', '{"status":200,"status":201}'],
    ['a leading zero', '{"status":0200}'],
    ['a trailing comma', '{"status":200,}'],
    ['text after the object', '{"status":200} x'],
    ['a truncated object', '{"status":200'],
    ['not an object', '[1]'],
  ])('leaves %s to JSON.parse', (_what, text) => {
    expect(scan(text).ok).toBe(false);
  });
});
