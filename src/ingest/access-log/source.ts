/**
 * The bytes of one log: a file or stdin (`-`), gzip-compressed or not (told by its magic bytes,
 * not its name), read in 1 MiB chunks. `onRaw` counts the bytes read before decompression, for
 * progress against the file size.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';

export const CHUNK_BYTES = 1024 * 1024;

export interface LogSource {
  /** The name shown in messages (`-` is stdin). */
  readonly name: string;
  /** Size in bytes on disk, when known (not for stdin). */
  readonly size: number | undefined;
  /**
   * What names this log across runs: the absolute path, device and inode of a file (undefined
   * for stdin). Import's Idempotency-Keys derive from it, so a re-run sends the same keys.
   */
  readonly identity?: string | undefined;
  /** The decompressed bytes, chunk by chunk. */
  chunks(onRaw?: (bytes: number) => void): AsyncGenerator<Buffer>;
}

async function* decompressed(input: Readable, onRaw: ((bytes: number) => void) | undefined): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done === true) return;
  const head = first.value;
  onRaw?.(head.length);
  if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
    yield head;
    for (;;) {
      const next = await it.next();
      if (next.done === true) return;
      onRaw?.(next.value.length);
      yield next.value;
    }
  }
  const gunzip = zlib.createGunzip({ chunkSize: CHUNK_BYTES });
  // Feeds the compressed bytes with backpressure; an error ends the gunzip stream with it.
  const feed = (async () => {
    try {
      if (!gunzip.write(head)) await once(gunzip, 'drain');
      for (;;) {
        const next = await it.next();
        if (next.done === true) break;
        onRaw?.(next.value.length);
        if (!gunzip.write(next.value)) await once(gunzip, 'drain');
      }
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  })();
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } finally {
    input.destroy();
    await feed;
  }
}

export function fileSource(name: string, stdin: Readable = process.stdin): LogSource {
  if (name === '-') return { name, size: undefined, chunks: (onRaw) => decompressed(stdin, onRaw) };
  const stat = fs.statSync(name);
  return {
    name,
    size: stat.size,
    identity: `${path.resolve(name)}:${stat.dev}:${stat.ino}`,
    chunks: (onRaw) => decompressed(fs.createReadStream(name, { highWaterMark: CHUNK_BYTES }), onRaw),
  };
}
