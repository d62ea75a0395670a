/**
 * The access-log formats by name, and the checks of their options that can be made before a
 * line is read (a bad --log-format or mapping fails the command, not every line).
 */
import fs from 'node:fs';
import { createFastlyParser } from './fastly.ts';
import { createJsonLinesParser } from './json-lines.ts';
import type { LineParser } from './line-parser.ts';
import { createNginxParser } from './nginx.ts';

export const LOG_FORMATS = ['nginx', 'fastly', 'json'] as const;
export type LogFormatName = (typeof LOG_FORMATS)[number];

export interface FormatOptions {
  format: LogFormatName;
  service: string;
  /** nginx: the log_format string or preset. Default `combined`. */
  logFormat?: string | undefined;
  /** json: the mapping file. Default: fields read from keys of their own name. */
  mapFile?: string | undefined;
  datacenter?: string | undefined;
  /** nginx: the variable holding the POP. */
  datacenterVar?: string | undefined;
}

/** The parser for `opts`; throws an Error whose message the CLI prints. */
export function createLineParser(opts: FormatOptions): LineParser {
  const defaults = { service: opts.service, datacenter: opts.datacenter };
  if (opts.datacenter !== undefined && opts.datacenterVar !== undefined) throw new Error('give --datacenter or --datacenter-var, not both');
  if (opts.format !== 'nginx' && opts.logFormat !== undefined) throw new Error('--log-format is for --format nginx');
  if (opts.format !== 'json' && opts.mapFile !== undefined) throw new Error('--map is for --format json');
  if (opts.format !== 'nginx' && opts.datacenterVar !== undefined) throw new Error('--datacenter-var is for --format nginx (JSON formats map the POP from a key)');
  switch (opts.format) {
    case 'nginx':
      if (opts.datacenter === undefined && opts.datacenterVar === undefined) {
        throw new Error('nginx logs do not name the POP: give --datacenter POP (one POP for the whole log) or --datacenter-var VAR (a variable of the log format)');
      }
      return createNginxParser({ ...defaults, logFormat: opts.logFormat, datacenterVar: opts.datacenterVar });
    case 'fastly':
      return createFastlyParser(defaults);
    case 'json': {
      let mapping: unknown = {};
      if (opts.mapFile !== undefined) {
        const text = fs.readFileSync(opts.mapFile, 'utf8');
        try {
          mapping = JSON.parse(text);
        } catch (err) {
          throw new Error(`${opts.mapFile}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return createJsonLinesParser(defaults, mapping);
    }
  }
}
