import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crcCombine, crcShift, deflatePiece, gzipJoin } from './gzip-join.ts';

const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 50 }), fc.constant('{"requests":1}'.repeat(6000)));

describe('gzipJoin', () => {
  it('combines CRCs as if computed over the concatenation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), fc.uint8Array({ maxLength: 500 }), (a, b) => {
        const joined = Buffer.concat([a, b]);
        expect(crcCombine(zlib.crc32(a), zlib.crc32(b), crcShift(b.length))).toBe(zlib.crc32(joined));
      }),
    );
  });

  it('makes one gzip member whose text is the parts in order (gunzip checks the CRC and length)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, fc.boolean()), { maxLength: 8 }), (parts) => {
        const pieces = parts.map(([t, literal]) => (literal ? Buffer.from(t) : deflatePiece(Buffer.from(t))));
        const gz = gzipJoin(pieces);
        expect(zlib.gunzipSync(gz).toString()).toBe(parts.map(([t]) => t).join(''));
      }),
      { numRuns: 200 },
    );
  });

  it('splits literal text longer than a stored block holds', () => {
    const long = Buffer.alloc(200_000, 'x');
    expect(zlib.gunzipSync(gzipJoin([long, deflatePiece(Buffer.from('y')), long])).length).toBe(400_001);
  });
});
