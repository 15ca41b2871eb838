// ImageDecoder on small hand-built PNG, BMP and PNM files (the ONNX 1.12 conformance data has no
// ImageDecoder cases). Chunk CRCs are left zero: the decoder does not check them.
import { deflateSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evalOp, shapeOf, t, vals } from './misc-helpers.ts';

function chunk(type: string, data: Uint8Array): number[] {
  const n = data.length;
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255, ...Buffer.from(type, 'latin1'), ...data, 0, 0, 0, 0];
}

/** A PNG of `rows` (each row already prefixed with its filter byte). */
function png(width: number, height: number, depth: number, colour: number, rows: number[], plte?: number[]): Uint8Array {
  const ihdr = new Uint8Array([0, 0, 0, width, 0, 0, 0, height, depth, colour, 0, 0, 0]);
  return new Uint8Array([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
    ...chunk('IHDR', ihdr),
    ...(plte ? chunk('PLTE', new Uint8Array(plte)) : []),
    ...chunk('IDAT', deflateSync(new Uint8Array(rows))),
    ...chunk('IEND', new Uint8Array()),
  ]);
}

const decode = (bytes: Uint8Array, pixel_format = 'RGB') => evalOp('ImageDecoder', [t('u8', [bytes.length], bytes)], { pixel_format })[0];

test('PNG RGB with Sub and Up filters; BGR and Grayscale outputs', () => {
  // Row 0 (Sub): pixels (10,20,30) (15,25,35); row 1 (Up): each byte +1 over row 0.
  const bytes = png(2, 2, 8, 2, [1, 10, 20, 30, 5, 5, 5, 2, 1, 1, 1, 1, 1, 1]);
  const rgb = decode(bytes);
  assert.equal(shapeOf(rgb), [2, 2, 3]);
  assert.equal(vals(rgb), [10, 20, 30, 15, 25, 35, 11, 21, 31, 16, 26, 36]);
  assert.equal(vals(decode(bytes, 'BGR')).slice(0, 3), [30, 20, 10]);
  const g = (r: number, gg: number, b: number) => (r * 19595 + gg * 38470 + b * 7471 + 0x8000) >> 16;
  assert.equal(vals(decode(bytes, 'Grayscale')), [g(10, 20, 30), g(15, 25, 35), g(11, 21, 31), g(16, 26, 36)]);
});

test('PNG 1-bit gray, palette and RGBA (alpha dropped)', () => {
  const gray = decode(png(3, 1, 1, 0, [0, 0b10100000]), 'Grayscale');
  assert.equal([shapeOf(gray), vals(gray)], [[1, 3, 1], [255, 0, 255]]);
  const pal = decode(png(2, 1, 8, 3, [0, 1, 0], [1, 2, 3, 200, 100, 50]));
  assert.equal(vals(pal), [200, 100, 50, 1, 2, 3]);
  const rgba = decode(png(1, 1, 8, 6, [0, 9, 8, 7, 128]));
  assert.equal(vals(rgba), [9, 8, 7]);
});

test('BMP 24-bit (bottom-up rows, BGR, padded) and PNM P6/P2', () => {
  const header = new Uint8Array(54);
  const dv = new DataView(header.buffer);
  header.set([0x42, 0x4d]);
  dv.setUint32(10, 54, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, 1, true); // width 1
  dv.setInt32(22, 2, true); // height 2, bottom-up
  dv.setUint16(28, 24, true);
  // Bottom row first: (B,G,R) = (3,2,1) + 1 pad byte, then the top row (6,5,4).
  const bmp = new Uint8Array([...header, 3, 2, 1, 0, 6, 5, 4, 0]);
  assert.equal(vals(decode(bmp)), [4, 5, 6, 1, 2, 3]);
  const p6 = new Uint8Array([...Buffer.from('P6\n# c\n2 1\n255\n', 'latin1'), 1, 2, 3, 4, 5, 6]);
  assert.equal(vals(decode(p6)), [1, 2, 3, 4, 5, 6]);
  const p2 = new Uint8Array(Buffer.from('P2 2 1 15 0 15', 'latin1'));
  assert.equal(vals(decode(p2, 'Grayscale')), [0, 255]);
});

test('JPEG is refused with a clear error', () => {
  assert.throws(() => decode(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), /JPEG decoding is not implemented/);
});

test.run();
