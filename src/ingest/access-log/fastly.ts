/**
 * Fastly real-time log streaming in JSON: the format Fastly's JSON logging guide recommends
 * (`timestamp`, `client_ip`, `host`, `url`, `request_method`, `request_protocol`,
 * `response_state`, `response_status`, `response_body_size`, `fastly_server`, `fastly_is_edge`,
 * ...) plus the optional keys of docs/import.md that carry the rest of an event (header sizes,
 * `time_elapsed`, TLS, IPv6, `pop`). One JSON object per line (Fastly's "newline delimited").
 */
import { applyDefaults, httpVersionOf, tlsVersionOf, type LineDefaults, type LineParser } from './line-parser.ts';
import type { LogRecord } from './log-record.ts';
import { parseJsonObject, setFromJson } from './json-values.ts';

/** `fastly_info.state` to events.md `cache`: HIT-SYNTH before HIT, HITPASS is a pass. */
export function cacheOfFastlyState(state: string): string | undefined {
  const s = state.toUpperCase();
  if (s.startsWith('HIT-SYNTH') || s === 'SYNTH') return 'synth';
  if (s.startsWith('HITPASS') || s.startsWith('PASS') || s.startsWith('PIPE')) return 'pass';
  if (s.startsWith('HIT')) return 'hit';
  if (s.startsWith('MISS')) return 'miss';
  if (s.startsWith('ERROR')) return 'error';
  return undefined;
}

/** `cache-fra-eddf8230062-FRA` (server.identity) -> `FRA`. */
export function popOfServer(identity: string): string | undefined {
  const dash = identity.lastIndexOf('-');
  const pop = dash >= 0 ? identity.slice(dash + 1) : '';
  return /^[A-Za-z0-9_]{2,16}$/.test(pop) ? pop.toUpperCase() : undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' && v !== '(null)' ? v : undefined);

export function createFastlyParser(defaults: LineDefaults): LineParser {
  return {
    parse(line: string, rec: LogRecord) {
      rec.reset();
      const obj = parseJsonObject(line);
      if (typeof obj === 'string') return obj;
      let reason: string | undefined;

      const ts = obj['timestamp'] ?? obj['time_start'];
      if (typeof ts === 'number') {
        // %{begin:msec}t is milliseconds; a seconds value is far below 1e11.
        rec.setNumber('timestamp', ts >= 1e11 ? ts / 1000 : ts);
      } else if ((reason = setFromJson(rec, 'timestamp', ts, 'timestamp')) !== undefined) return reason;

      if ((reason = setFromJson(rec, 'status', obj['response_status'] ?? obj['status'], 'response_status')) !== undefined) return reason;
      if ((reason = setFromJson(rec, 'resp_body_bytes', obj['response_body_size'], 'response_body_size')) !== undefined) return reason;
      if ((reason = setFromJson(rec, 'resp_header_bytes', obj['response_header_size'], 'response_header_size')) !== undefined) return reason;
      if ((reason = setFromJson(rec, 'req_header_bytes', obj['request_header_size'], 'request_header_size')) !== undefined) return reason;
      if ((reason = setFromJson(rec, 'req_body_bytes', obj['request_body_size'], 'request_body_size')) !== undefined) return reason;
      // time.elapsed.usec
      if ((reason = setFromJson(rec, 'time_ms', obj['time_elapsed'], 'time_elapsed', 1 / 1000)) !== undefined) return reason;

      const host = str(obj['host']);
      if (host !== undefined) rec.setString('domain', host);
      const url = str(obj['url']);
      if (url !== undefined) rec.setString('path', url);
      const method = str(obj['request_method']) ?? str(obj['request']);
      if (method !== undefined) rec.setString('method', method);
      const protocol = str(obj['request_protocol']) ?? str(obj['protocol']);
      if (protocol !== undefined) rec.setString('http', httpVersionOf(protocol));
      else if (obj['is_h2'] === true) rec.setString('http', '2');
      const clientIp = str(obj['client_ip']);
      if (clientIp !== undefined) rec.setString('client_ip', clientIp);

      const state = str(obj['response_state']) ?? str(obj['cache_status']);
      if (state !== undefined) {
        const cache = cacheOfFastlyState(state);
        if (cache === undefined) return `response_state: ${JSON.stringify(state)} is not a fastly_info.state`;
        rec.setString('cache', cache);
      }

      const pop = str(obj['pop']) ?? str(obj['server_datacenter']) ?? popOfServer(str(obj['fastly_server']) ?? '');
      if (pop !== undefined) rec.setString('datacenter', pop);
      if (obj['fastly_is_edge'] === false) rec.setBoolean('shield', true);
      const tls = str(obj['tls_client_protocol']);
      if (tls !== undefined) rec.setString('tls', tlsVersionOf(tls));
      if ((reason = setFromJson(rec, 'ipv6', obj['is_ipv6'], 'is_ipv6')) !== undefined) return reason;
      if (obj['is_ipv6'] === undefined && clientIp?.includes(':') === true) rec.setBoolean('ipv6', true);
      applyDefaults(rec, defaults);
      return undefined;
    },
  };
}
