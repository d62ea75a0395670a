/**
 * `rtmetrics tail FILE --service S`: follows a growing access log (through rotation by rename
 * or copytruncate) into rtmetrics, resuming after a restart from its durable position.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { createLineParser } from '../ingest/access-log/formats.ts';
import { runTail } from '../ingest/access-log/tail-follow.ts';
import { tailStateFile } from '../ingest/access-log/tail-state.ts';
import { CliError } from './admin-http.ts';
import { addLogOptions, loadCliConfig, openIngestTarget, type LogCommandOptions } from './ingest-target.ts';

interface TailCommandOptions extends LogCommandOptions {
  from: 'start' | 'end';
  state?: string;
  batch: string;
  pollMs: string;
  quiet?: boolean;
}

/** Rejected lines printed at most; the rest are counted in the final line. */
const MAX_SHOWN_REJECTS = 100;

export function registerTailCommand(program: Command): void {
  addLogOptions(program.command('tail').description('follow a growing access log (survives rotation, resumes after a restart)').argument('<file>', 'the log file'))
    .addOption(new Option('--from <where>', 'where a log never followed before starts').choices(['start', 'end']).default('start'))
    .option('--state <file>', 'position file (default <data dir>/tail/<file name>-<hash>.json)')
    .option('--batch <events>', 'most events per ingest batch', '50000')
    .option('--poll-ms <ms>', 'how often the file is checked for growth and rotation', '250')
    .option('--quiet', 'print only errors')
    .action(async (file: string, opts: TailCommandOptions) => {
      let target: Awaited<ReturnType<typeof openIngestTarget>> | undefined;
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const parser = createLineParser({
          format: opts.format,
          service: opts.service,
          logFormat: opts.logFormat,
          mapFile: opts.map,
          datacenter: opts.datacenter,
          datacenterVar: opts.datacenterVar,
        });
        const batchSize = Number(opts.batch);
        const pollMs = Number(opts.pollMs);
        if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliError('--batch must be a positive integer');
        if (!(pollMs > 0)) throw new CliError('--poll-ms must be above 0');
        const stateFile = opts.state ?? tailStateFile(loadCliConfig(opts.dataDir).dataDir, file);
        target = await openIngestTarget(opts, (attempt, reason) => process.stderr.write(`tail: attempt ${attempt} failed (${reason}); retrying\n`));
        let shown = 0;
        const say = (s: string): void => {
          if (opts.quiet !== true) process.stderr.write(`${s}\n`);
        };
        say(`tail: following ${file} into ${target.submitter.via} (position in ${stateFile})`);
        const stats = await runTail({
          path: file,
          stateFile,
          parser,
          submitter: target.submitter,
          maxLineBytes: target.config.limits.maxLineBytes,
          batchSize,
          pollMs,
          from: opts.from,
          signal: stop.signal,
          onReject: (f, line, reason) => {
            if (shown++ < MAX_SHOWN_REJECTS) process.stderr.write(`tail: ${f}:${line}: ${reason}\n`);
          },
          onRotate: (how, copy) => say(`tail: ${file} was ${how}${copy === undefined ? '' : ` (its last lines read from ${copy})`}; following the new file`),
        });
        await target.submitter.close();
        target = undefined;
        say(`tail: stopped; ${stats.events.toLocaleString('en-US')} events from ${stats.lines.toLocaleString('en-US')} lines (${stats.rejected.toLocaleString('en-US')} rejected), ${stats.rotations} rotations`);
      } catch (err) {
        process.exitCode = 1;
        process.stderr.write(`rtmetrics tail: ${err instanceof Error ? err.message : String(err)}\n`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await target?.submitter.close();
      }
    });
}
