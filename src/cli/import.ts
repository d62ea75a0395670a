/**
 * `rtmetrics import FILE... --service S [--format nginx|fastly|json]`: access logs (plain, gzip,
 * or `-` for stdin) into rtmetrics through the durable ingest path (docs/import.md).
 */
import type { Command } from 'commander';
import { createLineParser } from '../ingest/access-log/formats.ts';
import { runImportOnWorker } from '../ingest/access-log/import-parallel.ts';
import { runImport, type ImportSummary } from '../ingest/access-log/import-run.ts';
import { fileSource, type LogSource } from '../ingest/access-log/source.ts';
import { CliError } from './admin-http.ts';
import { addLogOptions, openIngestTarget, type LogCommandOptions } from './ingest-target.ts';
import { createProgressView } from './progress.ts';

interface ImportCommandOptions extends LogCommandOptions {
  json?: boolean;
  quiet?: boolean;
  progress?: boolean;
  batch?: string;
  progressMs: string;
  workers: string;
  duckdbMemory?: string;
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const iso = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

export function formatSummary(s: ImportSummary, via: string): string {
  const secs = s.elapsedMs / 1000;
  const out = [
    `imported ${fmt(s.events)} events from ${fmt(s.lines)} lines of ${s.files} file${s.files === 1 ? '' : 's'} (${fmt(s.rejected)} rejected) in ${secs.toFixed(1)} s, ${fmt(Math.round(s.lines / Math.max(secs, 0.001)))} lines/s, into ${via}`,
  ];
  if (s.alreadyImported > 0) out.push(`${fmt(s.alreadyImported)} of these events had been imported before (same file, lines and options); the server did not count them again`);
  if (s.firstSecond !== undefined && s.lastSecond !== undefined) {
    out.push(`seconds: ${iso(s.firstSecond)} .. ${iso(s.lastSecond)} (${fmt(s.seconds)} distinct seconds with events)`);
  }
  if (s.services.length > 0) out.push(`services: ${s.services.join(', ')}`);
  if (s.errors.length > 0) {
    out.push(`rejected lines${s.rejected > s.errors.length ? ` (the first ${s.errors.length} of ${fmt(s.rejected)})` : ''}:`);
    for (const e of s.errors) out.push(`  ${e.file}:${e.line}: ${e.reason}`);
  }
  return `${out.join('\n')}\n`;
}

export function registerImportCommand(program: Command): void {
  addLogOptions(
    program
      .command('import')
      .description('import access logs (nginx, Fastly JSON, JSON lines; plain, gzip or - for stdin)')
      .argument('<files...>', 'log files, - for stdin'),
  )
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress')
    .option('--batch <events>', 'events per ingest batch', '50000')
    .option('--workers <n>', 'in process: parse worker threads while the main thread writes; 0 parses on the main thread', '0')
    .option('--duckdb-memory <MiB>', "in process: DuckDB's memory limit while importing, when lower than the config's (RTM_DUCKDB_MEMORY_BYTES); too low and a store write fails")
    .option('--progress-ms <ms>', 'interval of the plain progress lines printed when stderr is not a terminal', '5000')
    .action(async (files: string[], opts: ImportCommandOptions) => {
      let target: Awaited<ReturnType<typeof openIngestTarget>> | undefined;
      try {
        const format = {
          format: opts.format,
          service: opts.service,
          logFormat: opts.logFormat,
          mapFile: opts.map,
          datacenter: opts.datacenter,
          datacenterVar: opts.datacenterVar,
        };
        // Built here too when a worker parses: a bad format or mapping fails before anything is opened.
        const parser = createLineParser(format);
        const sources: LogSource[] = files.map((f) => {
          try {
            return fileSource(f);
          } catch (err) {
            throw new CliError(`${f}: ${err instanceof Error ? err.message : String(err)}`);
          }
        });
        const workers = Number(opts.workers);
        if (!Number.isInteger(workers) || workers < 0) throw new CliError('--workers must be 0 or a positive integer');
        const batchSize = Number(opts.batch);
        if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliError('--batch must be a positive integer');
        const duckdbMiB = opts.duckdbMemory === undefined ? undefined : Number(opts.duckdbMemory);
        if (duckdbMiB !== undefined && !(duckdbMiB >= 64)) throw new CliError('--duckdb-memory must be at least 64 (MiB)');
        target = await openIngestTarget({ ...opts, ...(duckdbMiB === undefined ? {} : { duckdbMemoryBytes: duckdbMiB * 1024 ** 2 }) }, (attempt, reason) => process.stderr.write(`import: attempt ${attempt} failed (${reason}); retrying\n`));
        const progressMs = Number(opts.progressMs);
        if (!(progressMs > 0)) throw new CliError('--progress-ms must be above 0');
        const view = createProgressView(opts.quiet === true ? 'none' : process.stderr.isTTY ? 'bar' : 'lines', progressMs);
        let summary: ImportSummary;
        const deltas = target.submitter.deltas;
        try {
          summary =
            deltas !== undefined && workers > 0
              ? await runImportOnWorker({ sources, format, submitter: deltas, workers, maxLineBytes: target.config.limits.maxLineBytes, batchSize, onProgress: (p) => view.update(p) })
              : await runImport({
                  sources,
                  parser,
                  submitter: target.submitter,
                  maxLineBytes: target.config.limits.maxLineBytes,
                  batchSize,
                  // What decides the events besides the file: a re-run with the same options sends the same Idempotency-Keys.
                  keyScope: JSON.stringify([opts.format, opts.service, opts.logFormat, opts.map, opts.datacenter, opts.datacenterVar, batchSize]),
                  onProgress: (p) => view.update(p),
              });
        } finally {
          view.stop();
        }
        const via = target.submitter.via;
        // Closing writes the published seconds to the store: part of the import.
        await target.submitter.close();
        target = undefined;
        process.stdout.write(opts.json === true ? `${JSON.stringify({ ...summary, via })}\n` : formatSummary(summary, via));
      } catch (err) {
        process.exitCode = 1;
        process.stderr.write(`rtmetrics import: ${err instanceof Error ? err.message : String(err)}\n`);
      } finally {
        await target?.submitter.close();
      }
    });
}
