/**
 * nginx access logs: a line split by the compiled `log_format` (format-string.ts), each known
 * variable mapped to its event field (docs/import.md has the table). Unknown variables are
 * skipped; `-` is nginx's "no value" and leaves the field absent.
 */
import { compileLogFormat, unescapeValue, type CompiledFormat } from './format-string.ts';
import { applyDefaults, httpVersionOf, secondsToMs, tlsVersionOf, type LineDefaults, type LineParser } from './line-parser.ts';
import { cachedTimeParser, parseIsoTime, parseTimeLocal, parseUnixSeconds } from './log-time.ts';
import type { LogRecord } from './log-record.ts';

export interface NginxOptions extends LineDefaults {
  /** The log_format (nginx.conf syntax or a preset name). Default `combined`. */
  logFormat?: string | undefined;
  /** `--datacenter-var`: the variable (without `$`) that holds the POP. Default: none. */
  datacenterVar?: string | undefined;
}

/** What one line's variables said, before the fields that combine several are derived. */
interface Scratch {
  bytesSent: number;
  bodyBytes: number;
  requestLength: number;
  contentLength: number;
  /** Priority of the variable that set `domain` (host > http_host > server_name). */
  domainRank: number;
  /** Priority of the variable that set `origin_time_ms` (header time > response time). */
  originTimeRank: number;
}

type Handler = (value: string, rec: LogRecord, s: Scratch) => string | undefined;

const CACHE_STATUS: Readonly<Record<string, string>> = {
  HIT: 'hit',
  STALE: 'hit',
  UPDATING: 'hit',
  REVALIDATED: 'hit',
  MISS: 'miss',
  EXPIRED: 'miss',
  BYPASS: 'pass',
  PASS: 'pass',
};

/** A non-negative decimal integer, or -1. */
function integer(text: string): number {
  const n = text.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** A non-negative decimal (`0.036`), or -1. Hot path: checked by char codes, converted by Number (the same double as before). */
function decimal(text: string): number {
  const n = text.length;
  let i = 0;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  if (i === 0) return -1;
  if (i < n) {
    if (text.charCodeAt(i) !== 46 || i === n - 1) return -1; // '.' and at least one digit after it
    for (i++; i < n; i++) if (!isDigit(text.charCodeAt(i))) return -1;
  }
  return Number(text);
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** `GET`: 1 to 16 capital ASCII letters. */
function isMethod(text: string): boolean {
  const n = text.length;
  if (n === 0 || n > 16) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** The last entry of an upstream list (`a, b : c` -> `c`): the upstream that answered. */
function lastOfList(text: string): string {
  const comma = text.lastIndexOf(', ');
  const colon = text.lastIndexOf(' : ');
  const cut = Math.max(comma >= 0 ? comma + 2 : -1, colon >= 0 ? colon + 3 : -1);
  return cut < 0 ? text : text.slice(cut);
}

const bad = (variable: string, value: string): string => `$${variable}: ${JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value)} is not valid`;

function handlerFor(variable: string, datacenterVar: string | undefined): Handler | undefined {
  if (variable === datacenterVar) {
    return (v, rec) => {
      rec.setString('datacenter', v);
      return undefined;
    };
  }
  switch (variable) {
    case 'time_local': {
      const parse = cachedTimeParser(parseTimeLocal);
      return (v, rec) => {
        const t = parse(v);
        if (Number.isNaN(t)) return bad(variable, v);
        rec.setNumber('timestamp', t);
        return undefined;
      };
    }
    case 'time_iso8601': {
      const parse = cachedTimeParser(parseIsoTime);
      return (v, rec) => {
        const t = parse(v);
        if (Number.isNaN(t)) return bad(variable, v);
        rec.setNumber('timestamp', t);
        return undefined;
      };
    }
    case 'msec':
      return (v, rec) => {
        const t = parseUnixSeconds(v);
        if (Number.isNaN(t)) return bad(variable, v);
        rec.setNumber('timestamp', t);
        return undefined;
      };
    case 'host':
    case 'http_host':
    case 'server_name': {
      const rank = variable === 'host' ? 3 : variable === 'http_host' ? 2 : 1;
      return (v, rec, s) => {
        if (rank > s.domainRank) {
          rec.setString('domain', v);
          s.domainRank = rank;
        }
        return undefined;
      };
    }
    case 'request':
      return (v, rec) => {
        // METHOD URI PROTOCOL; anything else (a TLS handshake sent to a plain port, logged
        // escaped) was still a request nginx answered: kept, without method and path.
        const sp1 = v.indexOf(' ');
        const sp2 = v.lastIndexOf(' ');
        if (sp1 > 0 && sp2 > sp1) {
          const method = v.slice(0, sp1);
          if (isMethod(method)) {
            rec.setString('method', method);
            if (rec.get('path') === undefined) rec.setString('path', v.slice(sp1 + 1, sp2));
            if (rec.get('http') === undefined) rec.setString('http', httpVersionOf(v.slice(sp2 + 1)));
          }
        }
        return undefined;
      };
    case 'request_method':
      return (v, rec) => {
        rec.setString('method', v);
        return undefined;
      };
    case 'request_uri':
    case 'uri':
      return (v, rec) => {
        rec.setString('path', v);
        return undefined;
      };
    case 'server_protocol':
      return (v, rec) => {
        rec.setString('http', httpVersionOf(v));
        return undefined;
      };
    case 'status':
      return (v, rec) => {
        const n = integer(v);
        if (n < 0) return bad(variable, v);
        rec.setNumber('status', n);
        return undefined;
      };
    case 'body_bytes_sent':
    case 'bytes_sent':
    case 'request_length':
    case 'content_length': {
      const key = variable === 'body_bytes_sent' ? 'bodyBytes' : variable === 'bytes_sent' ? 'bytesSent' : variable === 'request_length' ? 'requestLength' : 'contentLength';
      return (v, _rec, s) => {
        const n = integer(v);
        if (n < 0) return bad(variable, v);
        s[key] = n;
        return undefined;
      };
    }
    case 'request_time':
      return (v, rec) => {
        const n = decimal(v);
        if (n < 0) return bad(variable, v);
        rec.setNumber('time_ms', secondsToMs(n));
        return undefined;
      };
    case 'upstream_cache_status':
      return (v, rec) => {
        // Logged in capitals: the lookup as is first, the case-folded one only when it misses.
        const cache = (Object.hasOwn(CACHE_STATUS, v) ? CACHE_STATUS[v] : undefined) ?? CACHE_STATUS[v.toUpperCase()];
        if (cache === undefined) return bad(variable, v);
        rec.setString('cache', cache);
        return undefined;
      };
    case 'upstream_status':
      return (v, rec) => {
        const last = lastOfList(v);
        if (last === '-') return undefined;
        const n = integer(last);
        if (n < 0) return bad(variable, v);
        rec.setNumber('origin_status', n);
        return undefined;
      };
    case 'upstream_response_time':
    case 'upstream_header_time': {
      const rank = variable === 'upstream_header_time' ? 2 : 1;
      return (v, rec, s) => {
        const last = lastOfList(v);
        if (last === '-' || rank < s.originTimeRank) return undefined;
        const n = decimal(last);
        if (n < 0) return bad(variable, v);
        rec.setNumber('origin_time_ms', secondsToMs(n));
        s.originTimeRank = rank;
        return undefined;
      };
    }
    case 'upstream_addr':
      return (v, rec) => {
        const last = lastOfList(v);
        if (last !== '-') rec.setString('backend', last);
        return undefined;
      };
    case 'ssl_protocol':
      return (v, rec) => {
        rec.setString('tls', tlsVersionOf(v));
        return undefined;
      };
    case 'remote_addr':
      return (v, rec) => {
        rec.setString('client_ip', v);
        if (v.includes(':')) rec.setBoolean('ipv6', true);
        return undefined;
      };
    default:
      return undefined;
  }
}

export interface NginxParser extends LineParser {
  readonly format: CompiledFormat;
}

export function createNginxParser(opts: NginxOptions): NginxParser {
  const format = compileLogFormat(opts.logFormat ?? 'combined');
  const datacenterVar = opts.datacenterVar?.replace(/^\$/, '').toLowerCase();
  if (datacenterVar !== undefined && !format.variables.includes(datacenterVar)) {
    throw new Error(`--datacenter-var ${datacenterVar}: the log format has no $${datacenterVar}`);
  }
  const handlers = format.variables.map((v) => handlerFor(v, datacenterVar));
  // Values are only unescaped when they may carry escapes; numbers and times never do.
  const escape = format.escape;
  const values: string[] = new Array<string>(format.variables.length).fill('');
  const scratch: Scratch = { bytesSent: -1, bodyBytes: -1, requestLength: -1, contentLength: -1, domainRank: 0, originTimeRank: 0 };
  const defaults: LineDefaults = { service: opts.service, datacenter: opts.datacenter };

  return {
    format,
    // Hot path: one split, one handler call per known variable, no object per line.
    parse(line, rec) {
      rec.reset();
      const mismatch = format.split(line, values);
      if (mismatch !== undefined) return mismatch;
      scratch.bytesSent = -1;
      scratch.bodyBytes = -1;
      scratch.requestLength = -1;
      scratch.contentLength = -1;
      scratch.domainRank = 0;
      scratch.originTimeRank = 0;
      for (let i = 0; i < handlers.length; i++) {
        const handler = handlers[i];
        if (handler === undefined) continue;
        let v = values[i] as string;
        if (v === '-' || v === '') continue;
        if (v.includes('\\')) v = unescapeValue(v, escape);
        const reason = handler(v, rec, scratch);
        if (reason !== undefined) return reason;
      }
      if (scratch.bodyBytes >= 0) {
        rec.setNumber('resp_body_bytes', scratch.bodyBytes);
        if (scratch.bytesSent >= scratch.bodyBytes) rec.setNumber('resp_header_bytes', scratch.bytesSent - scratch.bodyBytes);
      } else if (scratch.bytesSent >= 0) rec.setNumber('resp_body_bytes', scratch.bytesSent);
      if (scratch.requestLength >= 0) {
        const body = scratch.contentLength >= 0 && scratch.contentLength <= scratch.requestLength ? scratch.contentLength : 0;
        rec.setNumber('req_header_bytes', scratch.requestLength - body);
        if (body > 0) rec.setNumber('req_body_bytes', body);
      }
      applyDefaults(rec, defaults);
      return undefined;
    },
  };
}
