import { describe, expect, it } from 'vitest';
import { RtmError } from '../../http/errors.ts';
import { ClickHouseRequestError, type ClickHouseConnection } from './client.ts';
import { createUnavailableGuard, isUnavailable, shardLabel } from './unavailable.ts';

const server = (code: number, text: string): ClickHouseRequestError => new ClickHouseRequestError(`ClickHouse query failed: Code: ${code}, e.displayText() = ${text}`, code);
const transport = (code: string): ClickHouseRequestError =>
  new ClickHouseRequestError(`ClickHouse query failed: connect ${code} 127.0.0.1:1`, undefined, { cause: Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code }) });

describe('isUnavailable', () => {
  it.each([
    // What 18.16 answered with a shard SIGKILLed (a Distributed read through the live shard).
    ['279 all connection tries failed', server(279, 'DB::NetException: All connection tries failed. Log: Code: 210, Connection refused'), true],
    ['210 network error', server(210, 'DB::NetException: Connection refused (127.0.0.1:9000)'), true],
    ['209 socket timeout', server(209, 'DB::NetException: Timeout exceeded while reading from socket'), true],
    ['connection refused (the shard asked is the dead one)', transport('ECONNREFUSED'), true],
    ['connection reset', transport('ECONNRESET'), true],
    ['our own time limit', new ClickHouseRequestError('ClickHouse query failed: The user aborted a request.', undefined, { cause: Object.assign(new Error('aborted'), { name: 'AbortError' }) }), true],
    ['62 syntax error: a bug', server(62, 'DB::Exception: Syntax error: failed at position 8'), false],
    ['60 unknown table: a bug', server(60, 'DB::Exception: Table rtm.nope does not exist'), false],
    ['159 query timeout: the query, not the shard', server(159, 'DB::Exception: Timeout exceeded: elapsed 30 seconds'), false],
    ['anything else', new Error('boom'), false],
    ['not an error', 'boom', false],
  ])('%s', (_name, err, expected) => {
    expect(isUnavailable(err)).toBe(expected);
  });
});

const fakeShard = (url: string, up: boolean): ClickHouseConnection => ({
  url,
  database: 'rtm',
  rows: async () => {
    if (!up) throw transport('ECONNREFUSED');
    return [[1]];
  },
  command: async () => undefined,
  insert: async () => undefined,
  insertText: async () => undefined,
  close: async () => undefined,
});

describe('createUnavailableGuard', () => {
  it('names the shard that does not answer, with Retry-After, keeping the driver text out of the detail', async () => {
    const guard = createUnavailableGuard({ shards: [fakeShard('http://a:8123', true), fakeShard('http://b:8123', false)] });
    const err = await guard(server(279, 'All connection tries failed (10.0.0.2:9000)')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RtmError);
    const e = err as RtmError;
    expect([e.status, e.code, e.headers['retry-after']]).toEqual([503, 'RTM_ERR_STORE_UNAVAILABLE', '5']);
    expect(e.detail).toBe('ClickHouse shard 2 of 2 at http://b:8123 does not answer; no partial answer is given, retry later');
    expect(e.cause).toBeInstanceOf(ClickHouseRequestError);
  });

  it('passes an error that is not unavailability through unchanged (a 500)', async () => {
    const sqlError = server(62, 'Syntax error');
    const guard = createUnavailableGuard({ shards: [fakeShard('http://a:8123', true)] });
    await expect(guard(sqlError)).rejects.toBe(sqlError);
  });

  it('says so when every shard answers again by the time it asks', async () => {
    const guard = createUnavailableGuard({ shards: [fakeShard('http://a:8123', true), fakeShard('http://b:8123', true)] });
    await expect(guard(transport('ECONNRESET'))).rejects.toMatchObject({ detail: expect.stringMatching(/^a ClickHouse shard did not answer the read/) as unknown });
  });

  it('labels shards without the credentials of their URL', () => {
    expect(shardLabel('http://rtm:secret@h:8123/', 0, 1)).toBe('ClickHouse at http://h:8123');
    expect(shardLabel('https://h:8443', 2, 3)).toBe('ClickHouse shard 3 of 3 at https://h:8443');
  });
});
