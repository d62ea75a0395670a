/**
 * The `rtmetrics` command: one file per subcommand, wired here.
 */
import { Command } from 'commander';
import { registerDemoCommand } from './demo.ts';
import { registerImportCommand } from './import.ts';
import { registerServeCommands } from './serve.ts';
import { registerServiceCommands } from './service.ts';
import { registerTailCommand } from './tail.ts';
import { registerTokenCommands } from './token.ts';

const program = new Command();
program.name('rtmetrics').description('Self-hosted real-time traffic and usage metrics');
registerServeCommands(program);
registerDemoCommand(program);
registerTokenCommands(program);
registerServiceCommands(program);
registerImportCommand(program);
registerTailCommand(program);

await program.parseAsync(process.argv);
