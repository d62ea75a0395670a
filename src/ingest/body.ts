/**
 * The ingest request body: which media types and content codings are accepted, and decoding
 * to the NDJSON bytes the parser reads. Every failure is an RtmError of the registry with a
 * detail that tells the client what to send instead.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Errors, RtmError } from '../http/errors.ts';

/**
 * Media types read as NDJSON. `application/json` is accepted too: one JSON object (even
 * pretty-printed over several lines) is one event, anything else is read as NDJSON.
 */
export const NDJSON_MEDIA_TYPES = [
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'text/plain',
] as const;
export const JSON_MEDIA_TYPE = 'application/json';
export const ACCEPTED_MEDIA_TYPES: readonly string[] = [...NDJSON_MEDIA_TYPES, JSON_MEDIA_TYPE];

/** Content codings: none (`identity`) or gzip. */
export const ACCEPTED_ENCODINGS = ['identity', 'gzip', 'x-gzip'] as const;

export type BodyFormat = 'ndjson' | 'json';

const acceptedList = ACCEPTED_MEDIA_TYPES.join(', ');

/**
 * The format of a Content-Type header, or the 415 to answer. A charset other than UTF-8 (or
 * its subset US-ASCII) is refused rather than misread.
 */
export function bodyFormatOf(contentType: string | undefined): BodyFormat {
  if (contentType === undefined || contentType.trim() === '') {
    throw new RtmError(Errors.INGEST_CONTENT_TYPE, `Content-Type is missing; send one of: ${acceptedList}`);
  }
  const [mediaType = '', ...params] = contentType.split(';').map((part) => part.trim());
  const media = mediaType.toLowerCase();
  if (!ACCEPTED_MEDIA_TYPES.includes(media)) {
    throw new RtmError(Errors.INGEST_CONTENT_TYPE, `Content-Type ${JSON.stringify(mediaType.slice(0, 100))} is not accepted; send one of: ${acceptedList}`);
  }
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = param.slice(eq + 1).trim().replace(/^"|"$/g, '').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
      throw new RtmError(Errors.INGEST_CONTENT_TYPE, `charset ${JSON.stringify(charset.slice(0, 40))} is not accepted; events must be UTF-8`);
    }
  }
  return media === JSON_MEDIA_TYPE ? 'json' : 'ndjson';
}

const gunzip = promisify(zlib.gunzip);

/**
 * The decoded body. gzip is inflated off the event loop (zlib's thread pool), stopping at
 * `maxBodyBytes` of output so a small compressed bomb cannot exhaust memory.
 */
export async function decodeBody(raw: Buffer, contentEncoding: string | undefined, maxBodyBytes: number): Promise<Buffer> {
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return raw;
  if (coding !== 'gzip' && coding !== 'x-gzip') {
    // docs/errors.md: an unsupported coding is a body we cannot decode (400), like bad gzip.
    throw new RtmError(
      Errors.INGEST_BAD_ENCODING,
      `Content-Encoding ${JSON.stringify(coding.slice(0, 60))} is not accepted; send the body uncompressed or with Content-Encoding: gzip`,
    );
  }
  if (raw.length === 0) return raw;
  try {
    return await gunzip(raw, { maxOutputLength: maxBodyBytes });
  } catch (err) {
    throw gzipError(err, maxBodyBytes);
  }
}

function gzipError(err: unknown, maxBodyBytes: number): RtmError {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === 'ERR_BUFFER_TOO_LARGE') {
    return new RtmError(Errors.INGEST_BODY_TOO_LARGE, `the decompressed body is larger than the limit of ${maxBodyBytes} bytes; send fewer events per request`);
  }
  if (code === 'Z_BUF_ERROR') {
    return new RtmError(Errors.INGEST_BAD_ENCODING, 'the gzip body is truncated (unexpected end of the compressed data)');
  }
  // zlib's messages are fixed texts about the data ("incorrect header check", "invalid
  // distance too far back"), safe and useful to repeat.
  const message = err instanceof Error ? err.message : 'unknown error';
  return new RtmError(Errors.INGEST_BAD_ENCODING, `the body is not valid gzip: ${message}`);
}
