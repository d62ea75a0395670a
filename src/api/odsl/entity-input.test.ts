import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entitiesFromJson, entitiesFromNdjson, TooManyItems, validateEntity } from './entity-input.ts';

const T0 = Date.UTC(2024, 10, 20);
const base = { provider: 'P', metric: 'M', timestamp: T0 };

describe('validateEntity', () => {
  it.each<[unknown, Record<string, unknown>]>([
    [base, { ...base, value: 1 }],
    [{ ...base, timestamp: '2024-11-20T00:00:00Z', value: 0 }, { ...base, value: 0 }],
    [{ ...base, timestamp: '2024-11-20' }, { ...base, value: 1 }],
    [{ ...base, timestamp: '2024-11-20T01:00:00+01:00' }, { ...base, value: 1 }],
    [{ ...base, timestamp: T0 + 0.9 }, { ...base, value: 1 }],
    [{ ...base, value: null }, { ...base, value: 1 }],
    [{ ...base, value: -2.5, duration: 0, responseSize: 12, httpstatus: 503, user: 'u', detail: null }, { ...base, value: -2.5, duration: 0, responseSize: 12, httpstatus: 503, user: 'u' }],
  ])('accepts %j', (item, expected) => {
    expect(validateEntity(item)).toEqual({ ok: true, entity: expected });
  });

  it.each<[unknown, string]>([
    [null, 'expected a JSON object, got null'],
    [[base], 'expected a JSON object, got an array'],
    [{ metric: 'M', timestamp: T0 }, 'provider is required'],
    [{ provider: 'P', timestamp: T0 }, 'metric is required'],
    [{ provider: 'P', metric: 'M' }, 'timestamp is required'],
    [{ ...base, provider: '' }, 'provider must be 1-128 characters of A-Z a-z 0-9 _ . : -, got ""'],
    [{ ...base, metric: 'a b' }, 'metric must be 1-128 characters of A-Z a-z 0-9 _ . : -, got "a b"'],
    [{ ...base, timestamp: -1 }, 'timestamp -1 is out of range (epoch ms)'],
    [{ ...base, timestamp: true }, 'timestamp must be an ISO-8601 string or epoch milliseconds, got true'],
    [{ ...base, timestamp: '20/11/2024' }, 'timestamp "20/11/2024" is not an ISO-8601 time'],
    [{ ...base, value: 'x' }, 'value must be a number, got "x"'],
    [{ ...base, duration: -1 }, 'duration must be a number >= 0, got -1'],
    [{ ...base, responseSize: 1.5 }, 'responseSize must be a whole number of bytes, got 1.5'],
    [{ ...base, httpstatus: 200.5 }, 'httpstatus must be an integer 100..599, got 200.5'],
    [{ ...base, service: { a: 1 } }, 'service must be a string, got an object'],
    [{ ...base, method: 'x'.repeat(40) }, 'method is longer than 32 characters'],
    [{ ...base, owner: 'someone' }, 'unknown field "owner"'],
  ])('rejects %j', (item, reason) => {
    expect(validateEntity(item)).toEqual({ ok: false, reason });
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ provider: fc.jsonValue(), metric: fc.jsonValue(), timestamp: fc.jsonValue(), value: fc.jsonValue() })), (v) => {
        expect(typeof validateEntity(v).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('body parsing', () => {
  it('counts array items and NDJSON lines, and caps them', () => {
    expect(entitiesFromJson(base, 1)).toMatchObject({ items: 1, errors: [] });
    expect(() => entitiesFromJson([base, base], 1)).toThrow(TooManyItems);
    expect(() => entitiesFromNdjson(`${JSON.stringify(base)}\n\n${JSON.stringify(base)}\n`, 1, 1000)).toThrow(TooManyItems);
    expect(entitiesFromNdjson(`${JSON.stringify(base)}\r\n${JSON.stringify({ ...base, detail: 'x'.repeat(100) })}`, 10, 80)).toMatchObject({
      items: 2,
      entities: [{ provider: 'P' }],
      errors: [{ line: 2, reason: 'line longer than 80 bytes' }],
    });
  });
});
