/**
 * 95th-percentile billing (issue 11): events spread over 5-minute slots with known bandwidths;
 * `GET /rtm/v1/billing/bandwidth-p95` ranks the samples (empty slots are samples of 0) and
 * answers the nearest-rank 95th percentile, the maximum and the total, computed here from the
 * same events; a token without the service gets a 404, as for an unknown one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
/** 20 whole 5-minute slots ending an hour before the harness clock (2026-01-01 00:10Z). */
const FIRST = Math.floor((NOW - 3_600) / 300) * 300 - 20 * 300;
const SLOTS = 20;
let h: Harness;

/** Bytes per event in slot k: every slot different, slot 7 left empty. */
const slotBytes = (k: number): number => (k === 7 ? 0 : 1_000 * (k + 1));

beforeAll(async () => {
  h = await startHarness();
  const lines: string[] = [];
  for (let k = 0; k < SLOTS; k++) {
    if (slotBytes(k) === 0) continue;
    // Three events per slot at different seconds and POPs; bandwidth counts headers and bodies both ways.
    for (let i = 0; i < 3; i++) {
      lines.push(
        JSON.stringify({
          timestamp: FIRST + k * 300 + i * 97 + 0.5,
          service: 'billed',
          datacenter: i === 0 ? 'FRA' : 'LHR',
          domain: 'a.example',
          status: 200,
          resp_header_bytes: 100,
          resp_body_bytes: slotBytes(k) - 100 - 50,
          bereq_header_bytes: 30,
          bereq_body_bytes: 20,
          time_ms: 1,
        }),
      );
    }
  }
  // Another service's traffic in the same slots must not be billed to `billed`.
  lines.push(JSON.stringify({ timestamp: FIRST + 10, service: 'other', datacenter: 'FRA', domain: 'b.example', status: 200, resp_body_bytes: 9e9, time_ms: 1 }));
  const ack = await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`);
  expect(ack.accepted).toBe(lines.length);
  await h.publishThrough(NOW);
  await h.services.store.compact();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const get = (query: string, token = ADMIN_TOKEN) => h.inject({ method: 'GET', url: `/rtm/v1/billing/bandwidth-p95?${query}`, headers: { authorization: `Bearer ${token}` } });

describe('95th-percentile bandwidth billing', () => {
  it('ranks 5-minute samples (empty ones as 0) and answers p95, max and total from the exact counters', async () => {
    const res = await get(`service=billed&from=${FIRST}&to=${FIRST + SLOTS * 300}`);
    expect(res.statusCode, res.body).toBe(200);
    const samples = Array.from({ length: SLOTS }, (_, k) => (3 * slotBytes(k)) / 300).sort((a, b) => a - b);
    // Nearest rank: ceil(0.95 * 20) = 19th smallest, the second largest.
    const p95 = samples[18] as number;
    expect(res.json()).toEqual({
      service: 'billed',
      from: FIRST,
      to: FIRST + SLOTS * 300,
      sample_seconds: 300,
      samples: SLOTS,
      p95_bytes_per_second: p95,
      p95_bits_per_second: p95 * 8,
      max_bits_per_second: (samples[19] as number) * 8,
      total_bytes: Array.from({ length: SLOTS }, (_, k) => 3 * slotBytes(k)).reduce((a, b) => a + b, 0),
    });
  });

  it('counts only whole slots inside the range', async () => {
    // Starts mid-slot 0 and ends mid-slot 3: slots 1 and 2 only.
    const res = await get(`service=billed&from=${FIRST + 10}&to=${FIRST + 3 * 300 + 10}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ from: FIRST + 300, to: FIRST + 900, samples: 2, total_bytes: 3 * (slotBytes(1) + slotBytes(2)), max_bits_per_second: ((3 * slotBytes(2)) / 300) * 8 });
  });

  it('bills a calendar month: every 5-minute sample of it, most of them empty', async () => {
    const res = await get('service=billed&month=2025-12');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ from: Date.UTC(2025, 11, 1) / 1000, to: Date.UTC(2026, 0, 1) / 1000, samples: 31 * 288, p95_bits_per_second: 0 });
    expect(body.total_bytes).toBe(Array.from({ length: SLOTS }, (_, k) => 3 * slotBytes(k)).reduce((a, b) => a + b, 0));
    expect(body.max_bits_per_second).toBe(((3 * slotBytes(SLOTS - 1)) / 300) * 8);
  });

  it('answers 404 for a service the token may not read, 400 for a bad month or a range with no whole sample', async () => {
    const { secret } = await h.token('only-other', ['other'], ['read']);
    const hidden = await get(`service=billed&from=${FIRST}&to=${FIRST + 600}`, secret);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.body).not.toContain('total_bytes');
    const own = await get(`service=other&from=${FIRST}&to=${FIRST + 300}`, secret);
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json().total_bytes).toBe(9e9);
    const badMonth = await get('service=billed&month=2025-13');
    expect(badMonth.statusCode).toBe(400);
    expect(badMonth.body).toContain('2025-13');
    const both = await get(`service=billed&month=2025-12&from=${FIRST}`);
    expect(both.statusCode).toBe(400);
    const tooShort = await get(`service=billed&from=${FIRST + 1}&to=${FIRST + 299}`);
    expect(tooShort.statusCode).toBe(400);
    expect(tooShort.body).toContain('no whole 5-minute sample');
    const noToken = await h.inject({ method: 'GET', url: `/rtm/v1/billing/bandwidth-p95?service=billed` });
    expect(noToken.statusCode).toBe(401);
  });
});
