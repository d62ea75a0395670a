import { describe, expect, it } from 'vitest';
import { nodeIdFrom, storeConfigFrom } from './store-config.ts';

describe('store config', () => {
  it('defaults to DuckDB', () => {
    expect(storeConfigFrom({})).toEqual({ engine: 'duckdb' });
  });

  it('reads the ClickHouse settings', () => {
    expect(
      storeConfigFrom({ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://10.0.0.1:8123, http://10.0.0.2:8123', RTM_CLICKHOUSE_USER: 'rtm', RTM_CLICKHOUSE_PASSWORD: 'pw', RTM_CLICKHOUSE_CLUSTER: 'rtm_two' }),
    ).toEqual({ engine: 'clickhouse', clickhouse: { urls: ['http://10.0.0.1:8123', 'http://10.0.0.2:8123'], database: 'rtm', user: 'rtm', password: 'pw', cluster: 'rtm_two', readLagSeconds: 3, spoolMaxBytes: 1024 ** 3 } });
  });

  it('reads the read lag of real-time answers (RTM_CLICKHOUSE_READ_LAG)', () => {
    const lag = (v: string): unknown => storeConfigFrom({ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://h:8123', RTM_CLICKHOUSE_READ_LAG: v });
    expect(lag('0')).toMatchObject({ clickhouse: { readLagSeconds: 0 } });
    expect(lag('10')).toMatchObject({ clickhouse: { readLagSeconds: 10 } });
  });

  it('reads the spool budget (RTM_CLICKHOUSE_SPOOL_MAX_BYTES)', () => {
    const budget = (v: string): unknown => storeConfigFrom({ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://h:8123', RTM_CLICKHOUSE_SPOOL_MAX_BYTES: v });
    expect(budget('')).toMatchObject({ clickhouse: { spoolMaxBytes: 1024 ** 3 } });
    expect(budget('65536')).toMatchObject({ clickhouse: { spoolMaxBytes: 65_536 } });
    expect(budget('Infinity')).toMatchObject({ clickhouse: { spoolMaxBytes: Number.POSITIVE_INFINITY } });
  });

  it.each([
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://h:8123', RTM_CLICKHOUSE_SPOOL_MAX_BYTES: '0' }, /RTM_CLICKHOUSE_SPOOL_MAX_BYTES must be whole bytes above 0 .* got "0"/],
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://h:8123', RTM_CLICKHOUSE_SPOOL_MAX_BYTES: '1GiB' }, /RTM_CLICKHOUSE_SPOOL_MAX_BYTES must be whole bytes/],
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://h:8123', RTM_CLICKHOUSE_SPOOL_MAX_BYTES: '-5' }, /RTM_CLICKHOUSE_SPOOL_MAX_BYTES must be whole bytes/],
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://h:8123', RTM_CLICKHOUSE_READ_LAG: '-1' }, /RTM_CLICKHOUSE_READ_LAG must be whole seconds from 0 to 99, got "-1"/],
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://h:8123', RTM_CLICKHOUSE_READ_LAG: '1.5' }, /RTM_CLICKHOUSE_READ_LAG must be whole seconds/],
    [{ RTM_STORE: 'mysql' }, /RTM_STORE must be duckdb or clickhouse, got "mysql"/],
    [{ RTM_STORE: 'clickhouse' }, /needs RTM_CLICKHOUSE_URLS/],
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'localhost:8123' }, /"localhost:8123" is not an http\(s\) URL/],
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'nope' }, /"nope" is not a URL/],
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://h:8123', RTM_CLICKHOUSE_DATABASE: 'a-b' }, /RTM_CLICKHOUSE_DATABASE must be a plain identifier/],
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://a:8123,http://b:8123' }, /names 2 shards: set RTM_CLICKHOUSE_CLUSTER/],
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://a:8123,http://a:8123', RTM_CLICKHOUSE_CLUSTER: 'c' }, /names a shard twice/],
    [{ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: 'http://a:8123', RTM_CLICKHOUSE_CLUSTER: 'a b' }, /RTM_CLICKHOUSE_CLUSTER must be a plain identifier/],
  ])('refuses %j', (env, message) => {
    expect(() => storeConfigFrom(env)).toThrow(message);
  });

  it('derives a node id per host and data dir unless one is set', () => {
    const a = nodeIdFrom({}, '/data/a');
    expect(a).not.toBe(nodeIdFrom({}, '/data/b'));
    expect(a).toBe(nodeIdFrom({}, '/data/a'));
    expect(nodeIdFrom({ RTM_NODE_ID: 'edge-1' }, '/data/a')).toBe('edge-1');
    expect(() => nodeIdFrom({ RTM_NODE_ID: 'a b' }, '/data/a')).toThrow(/RTM_NODE_ID must be/);
  });
});
