/**
 * Bytes to lines with bounded memory: chunks go in, each complete line comes out as a span of
 * the chunk (no copy), and only a partial last line is carried to the next chunk. A line longer
 * than `maxLineBytes` is not kept: its bytes are skipped up to its line break and it is reported
 * as too long, so one 10 MB line (or a file without any line break) costs no more memory than a
 * normal line. Offsets count bytes of the (decompressed) stream, for `tail` positions.
 */

export interface LineSink {
  /** One line, `buf[start..end)` without its line break (nor a `\r` before it); `line` is 1-based. */
  line(buf: Buffer, start: number, end: number, line: number): void;
  /** A line of `bytes` bytes (without its line break) that was longer than the limit. */
  tooLong(line: number, bytes: number): void;
}

export interface LineSplitter {
  push(chunk: Buffer): void;
  /** The stream ended: a last line without a line break is a line too. */
  end(): void;
  /** Bytes of complete lines handed out so far (the next line starts there). */
  readonly consumed: number;
  /** Lines handed out so far (including too-long ones). */
  readonly lines: number;
  /** Most bytes ever carried between chunks (tests check the bound). */
  readonly maxCarried: number;
}

const NEWLINE = 10;

export function createLineSplitter(sink: LineSink, opts: { maxLineBytes: number; startOffset?: number; startLine?: number }): LineSplitter {
  const { maxLineBytes } = opts;
  let carry: Buffer | undefined;
  /** > 0 while skipping a too-long line: the bytes seen of it so far. */
  let skipping = 0;
  let consumed = opts.startOffset ?? 0;
  let lines = opts.startLine ?? 0;
  let maxCarried = 0;

  const emit = (buf: Buffer, start: number, end: number): void => {
    lines++;
    const stop = end > start && buf[end - 1] === 0x0d ? end - 1 : end;
    if (stop - start > maxLineBytes) sink.tooLong(lines, stop - start);
    else sink.line(buf, start, stop, lines);
  };

  return {
    push(chunk) {
      let pos = 0;
      if (skipping > 0) {
        const nl = chunk.indexOf(NEWLINE);
        if (nl < 0) {
          skipping += chunk.length;
          return;
        }
        lines++;
        sink.tooLong(lines, skipping + nl);
        consumed += skipping + nl + 1;
        skipping = 0;
        pos = nl + 1;
      } else if (carry !== undefined) {
        const nl = chunk.indexOf(NEWLINE);
        if (nl < 0) {
          if (carry.length + chunk.length > maxLineBytes + 1) {
            // Too long already: stop keeping it.
            skipping = carry.length + chunk.length;
            carry = undefined;
          } else {
            carry = Buffer.concat([carry, chunk]);
            maxCarried = Math.max(maxCarried, carry.length);
          }
          return;
        }
        const joined = carry.length + nl > maxLineBytes + 1 ? undefined : Buffer.concat([carry, chunk.subarray(0, nl)]);
        if (joined === undefined) {
          lines++;
          sink.tooLong(lines, carry.length + nl);
        } else emit(joined, 0, joined.length);
        consumed += carry.length + nl + 1;
        carry = undefined;
        pos = nl + 1;
      }
      for (;;) {
        const nl = chunk.indexOf(NEWLINE, pos);
        if (nl < 0) break;
        emit(chunk, pos, nl);
        consumed += nl + 1 - pos;
        pos = nl + 1;
      }
      if (pos < chunk.length) {
        const rest = chunk.length - pos;
        if (rest > maxLineBytes + 1) skipping = rest;
        else {
          // A copy: the chunk's memory is then free to go.
          carry = Buffer.from(chunk.subarray(pos));
          maxCarried = Math.max(maxCarried, carry.length);
        }
      }
    },
    end() {
      if (skipping > 0) {
        lines++;
        sink.tooLong(lines, skipping);
        consumed += skipping;
        skipping = 0;
      } else if (carry !== undefined) {
        emit(carry, 0, carry.length);
        consumed += carry.length;
        carry = undefined;
      }
    },
    get consumed() {
      return consumed;
    },
    get lines() {
      return lines;
    },
    get maxCarried() {
      return maxCarried;
    },
  };
}

/**
 * Where to cut `chunk` after `pos` so that it holds at most `room` line breaks (so a batch never
 * overflows): the byte after the room-th newline, or the chunk's end.
 */
export function cutAfterLines(chunk: Buffer, pos: number, room: number): number {
  if (room <= 0) return Math.min(chunk.length, chunk.indexOf(10, pos) + 1 || chunk.length);
  // Most chunks hold far fewer lines than the room: count only when it may matter.
  if (chunk.length - pos <= room) return chunk.length;
  let at = pos;
  for (let n = 0; n < room; n++) {
    const nl = chunk.indexOf(10, at);
    if (nl < 0) return chunk.length;
    at = nl + 1;
  }
  return at;
}
