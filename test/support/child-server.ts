/**
 * The real server as a child process (`node bin/rtmetrics.js serve` on 127.0.0.1, port 0), for
 * the tests that need a process to kill or to measure: the durability and soak tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ChildServerOptions {
  dataDir: string;
  adminToken: string;
  /** Extra environment, over the defaults (port 0, 127.0.0.1, RTM_AGGREGATE_DELAY=1, LOG_LEVEL=info). */
  env?: Record<string, string>;
  /** Node options before the script (a benchmark's `--cpu-prof`, say). */
  nodeArgs?: string[];
  /** Told every stdout line after the listening one (the server's log). */
  onLogLine?: (line: string) => void;
}

export interface ChildServer {
  child: ChildProcess;
  /** From the "rtmetrics listening" log line. */
  url: string;
  /** The exit code; null when a signal ended the process. */
  exited: Promise<number | null>;
  /** SIGKILL (unless it has already exited); resolves on exit. */
  kill(): Promise<number | null>;
  /** SIGTERM, a graceful stop; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the server; resolves once it listens, rejects (with its stderr) if it exits first. */
export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(ROOT, 'bin/rtmetrics.js'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      RTM_DATA_DIR: options.dataDir,
      RTM_ADMIN_TOKEN: options.adminToken,
      RTM_AGGREGATE_DELAY: '1',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    // Every line is read (and dropped once listening): a full pipe would stall the server.
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      options.onLogLine?.(line);
      if (!line.includes('rtmetrics listening')) return;
      try {
        const msg = JSON.parse(line) as { msg?: string; url?: string };
        if (msg.msg === 'rtmetrics listening' && typeof msg.url === 'string') resolve(msg.url);
      } catch {
        // Not a log line.
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
  const signal = (name: NodeJS.Signals): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    return exited;
  };
  return { child, url, exited, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}
