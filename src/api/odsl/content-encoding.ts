/**
 * `Content-Encoding: gzip` for request bodies read by Fastify's own parsers (POST
 * /api/metric/v1), as /ingest accepts it: a preParsing hook that inflates the stream. Fastify
 * counts the inflated bytes against the route's bodyLimit (a small compressed bomb is a 413)
 * and checks Content-Length against `receivedEncodedLength`. A body that is not valid gzip,
 * truncated included, is RTM_ERR_INGEST_BAD_ENCODING; an unknown coding too, as for /ingest.
 */
import { PassThrough, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { FastifyRequest } from 'fastify';
import { Errors, RtmError } from '../../http/errors.ts';

type Counted = PassThrough & { receivedEncodedLength: number };

function badGzip(err: unknown): RtmError {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === 'Z_BUF_ERROR') return new RtmError(Errors.INGEST_BAD_ENCODING, 'the gzip body is truncated (unexpected end of the compressed data)');
  // zlib's messages are fixed texts about the data ("incorrect header check"): safe to repeat.
  const message = err instanceof Error ? err.message : 'unknown error';
  return new RtmError(Errors.INGEST_BAD_ENCODING, `the body is not valid gzip: ${message}`);
}

/** preParsing hook: the body as sent, or inflated when it is gzip. */
export async function decodeContentEncoding(req: FastifyRequest, _reply: unknown, payload: Readable): Promise<Readable> {
  const header = req.headers['content-encoding'];
  const coding = (typeof header === 'string' ? header : '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return payload;
  if (coding !== 'gzip' && coding !== 'x-gzip') {
    throw new RtmError(
      Errors.INGEST_BAD_ENCODING,
      `Content-Encoding ${JSON.stringify(coding.slice(0, 60))} is not accepted; send the body uncompressed or with Content-Encoding: gzip`,
    );
  }
  const out = new PassThrough() as Counted;
  out.receivedEncodedLength = 0;
  const gunzip = zlib.createGunzip();
  payload.on('data', (chunk: Buffer | string) => {
    out.receivedEncodedLength += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  });
  payload.on('error', (err) => out.destroy(err));
  gunzip.on('error', (err) => out.destroy(badGzip(err)));
  payload.pipe(gunzip).pipe(out);
  return out;
}
