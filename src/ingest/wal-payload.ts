/**
 * What the pipeline writes in one WAL entry (the WAL itself stores opaque bytes): the encoded
 * Delta (src/model/delta-bytes.ts), optionally preceded by the idempotency keys of the requests
 * it acknowledges, so a key is durable exactly when the events it stands for are (docs/wal.md).
 *
 *   payload = Delta bytes                                     (starts with "RTD1")
 *           | "RTE1" u32 keysBytes, keys JSON (UTF-8), padding to 8, Delta bytes
 *
 * Entries of format version 1 (a RecordSet, first byte 1) are still read, so a WAL written by an
 * earlier version replays after an upgrade.
 */
import { decodeDelta, encodeDelta, encodedDeltaBytes } from '../model/delta-bytes.ts';
import { deltaFromRecordSet, type Delta } from '../model/delta.ts';
import type { LineError } from './ndjson-parser.ts';
import { decodeRecordSet } from './wal/codec.ts';

/** An acknowledged request's idempotency key and the answer it got (src/ingest/idempotency/). */
export interface IdempotencyRecord {
  /** The token id and the client's key, hashed (scopedKey in idempotency-keys.ts). */
  key: string;
  /** Fingerprint of the body (bodyFingerprint): a retry with another body is refused. */
  hash: string;
  /** Unix ms when the request was acknowledged. */
  at: number;
  accepted: number;
  rejected: number;
  /** The rejected lines listed in the answer (absent when none). */
  errors?: LineError[];
}

export interface WalPayload {
  delta: Delta;
  keys: readonly IdempotencyRecord[];
}

const ENVELOPE = 0x31455452; // "RTE1"
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeWalPayload(delta: Delta, keys: readonly IdempotencyRecord[] = []): Uint8Array {
  if (keys.length === 0) return encodeDelta(delta);
  const json = utf8.encode(JSON.stringify(keys));
  const head = (8 + json.length + 7) & ~7;
  const out = new Uint8Array(head + encodedDeltaBytes(delta));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, ENVELOPE, true);
  dv.setUint32(4, json.length, true);
  out.set(json, 8);
  encodeDelta(delta, out, head);
  return out;
}

/** Throws a RangeError when the bytes are neither format. */
export function decodeWalPayload(payload: Uint8Array): WalPayload {
  if (payload.length > 0 && payload[0] === 1) return { delta: deltaFromRecordSet(decodeRecordSet(payload)), keys: [] };
  if (payload.length < 8) throw new RangeError('WAL payload ends early');
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (dv.getUint32(0, true) !== ENVELOPE) return { delta: decodeDelta(payload), keys: [] };
  const length = dv.getUint32(4, true);
  const head = (8 + length + 7) & ~7;
  if (head > payload.length) throw new RangeError('WAL payload ends early');
  let keys: IdempotencyRecord[];
  try {
    keys = JSON.parse(utf8Decoder.decode(payload.subarray(8, 8 + length))) as IdempotencyRecord[];
  } catch {
    throw new RangeError('WAL payload keys are not JSON');
  }
  if (!Array.isArray(keys)) throw new RangeError('WAL payload keys are not a list');
  return { delta: decodeDelta(payload.subarray(head)), keys };
}
