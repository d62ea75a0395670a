/**
 * A fatal start-up condition the operator can fix (a corrupt database file, `wal/` that is not a
 * directory, a data dir another server holds): what failed and what to do, printed as one line
 * by `rtmetrics serve` (src/cli/serve.ts) instead of a stack trace.
 */
export class StartupError extends Error {
  /** What to do about it, e.g. "stop the other server or use another RTM_DATA_DIR". */
  readonly hint: string;
  constructor(what: string, hint: string, options?: { cause?: unknown }) {
    super(what, options);
    this.name = 'StartupError';
    this.hint = hint;
  }
}
