/**
 * The `rtmetrics` command: one file per subcommand, wired here.
 */
import { Command } from 'commander';
import { registerServeCommands } from './serve.ts';
import { registerTokenCommands } from './token.ts';

const program = new Command();
program.name('rtmetrics').description('Self-hosted real-time traffic and usage metrics');
registerServeCommands(program);
registerTokenCommands(program);

await program.parseAsync(process.argv);
