/**
 * What every access-log format provides: a line in, the event fields out (or the reason the line
 * is rejected). The record is then validated by the ingest rules in submit.ts.
 */
import type { LogRecord } from './log-record.ts';

export interface LineParser {
  /** Fills `rec` (after resetting it) from one line without its line break; undefined, or why the line is rejected. */
  parse(line: string, rec: LogRecord): string | undefined;
}

/** What the command line says about every line of an import. */
export interface LineDefaults {
  /** `--service`: the service of lines that do not name one. */
  service: string;
  /** `--datacenter`: the POP of lines that do not name one. Default: none (such lines are rejected). */
  datacenter?: string | undefined;
}

/** Fills the fields every format takes from the command line when the line has none. */
export function applyDefaults(rec: LogRecord, defaults: LineDefaults): void {
  if (rec.get('service') === undefined) rec.setString('service', defaults.service);
  if (rec.get('datacenter') === undefined && defaults.datacenter !== undefined) rec.setString('datacenter', defaults.datacenter);
}

/** `HTTP/2.0` -> `2`, `HTTP/1.1` -> `1.1` (events.md `http`); anything else as is, for the validator to judge. */
export function httpVersionOf(protocol: string): string {
  switch (protocol) {
    case 'HTTP/1.1':
      return '1.1';
    case 'HTTP/2.0':
    case 'HTTP/2':
      return '2';
    case 'HTTP/1.0':
      return '1.0';
    case 'HTTP/3.0':
    case 'HTTP/3':
      return '3';
    default:
      return protocol;
  }
}

/** `TLSv1.2` -> `1.2`, `TLSv1` -> `1.0` (events.md `tls`); anything else as is, for the validator to judge. */
export function tlsVersionOf(protocol: string): string {
  if (protocol === 'TLSv1') return '1.0';
  return protocol.startsWith('TLSv') ? protocol.slice(4) : protocol;
}

/** Seconds as written in logs (`0.036`) to milliseconds, rounded to the microsecond so every format gives the same number. */
export function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}
