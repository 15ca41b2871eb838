// ImageDecoder (opset 20): encoded image bytes → u8 [H, W, C] in RGB, BGR or Grayscale. The
// ONNX reference decodes with Pillow; this decodes PNG (any bit depth and colour type, not
// interlaced), BMP (8-bit palette, 24- and 32-bit) and PNM (P2/P3/P5/P6) and converts the way
// Pillow does: alpha is dropped, and RGB → gray is (19595 R + 38470 G + 7471 B + 2^15) >> 16.
// JPEG, TIFF, WebP and JPEG 2000 are refused with a clear error: matching libjpeg's rounding
// bit for bit is a decoder of its own.
import { inflateSync } from 'node:zlib';
import { LatheError } from '../../errors.ts';
import { defineOnnxEvals } from '../registry.ts';
import { makeTensor } from '../tensor.ts';

/** A decoded image: width × height pixels of 1 (gray) or 3 (RGB) 8-bit channels. */
interface Image {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

function bad(message: string): never {
  throw new LatheError('UnsupportedType', `ImageDecoder: ${message}`);
}

const be32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const le16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const le32 = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function decodePng(b: Uint8Array): Image {
  let at = 8;
  let width = 0, height = 0, depth = 0, colour = 0, interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (at + 8 <= b.length) {
    const len = be32(b, at);
    const type = String.fromCharCode(b[at + 4]!, b[at + 5]!, b[at + 6]!, b[at + 7]!);
    const data = b.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      [width, height, depth, colour, interlace] = [be32(data, 0), be32(data, 4), data[8]!, data[9]!, data[12]!];
    } else if (type === 'PLTE') palette = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    at += 12 + len;
  }
  if (interlace) bad('interlaced PNG is not supported');
  const samples = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colour as 0 | 2 | 3 | 4 | 6];
  if (!samples) bad(`PNG colour type ${colour} is not valid`);
  const raw = inflateSync(Buffer.concat(idat));
  const bpp = Math.max(1, (samples * depth) >> 3); // bytes per complete pixel, for the filters
  const stride = Math.ceil((width * samples * depth) / 8);
  const rows = new Uint8Array(stride * height);
  // Undo the per-row filters (None, Sub, Up, Average, Paeth).
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const o = y * stride;
    for (let x = 0; x < stride; x++) {
      const left = x >= bpp ? rows[o + x - bpp]! : 0;
      const up = y > 0 ? rows[o - stride + x]! : 0;
      const ul = y > 0 && x >= bpp ? rows[o - stride + x - bpp]! : 0;
      const v = raw[src + x]!;
      rows[o + x] = f === 0 ? v : f === 1 ? v + left : f === 2 ? v + up : f === 3 ? v + ((left + up) >> 1) : v + paeth(left, up, ul);
    }
  }
  // Sample s of pixel x in row y, scaled to 8 bits (16-bit keeps its high byte, as Pillow does
  // for RGB; low bit depths of gray stretch to 0..255; palette indices stay indices).
  const sample = (y: number, x: number, s: number): number => {
    const i = x * samples + s;
    if (depth === 8) return rows[y * stride + i]!;
    if (depth === 16) return rows[y * stride + 2 * i]!;
    const bits = (rows[y * stride + ((i * depth) >> 3)]! >> (8 - depth - ((i * depth) & 7))) & ((1 << depth) - 1);
    return colour === 3 ? bits : Math.round((bits * 255) / ((1 << depth) - 1));
  };
  const gray = colour === 0 || colour === 4;
  const pixels = new Uint8Array(width * height * (gray ? 1 : 3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * (gray ? 1 : 3);
      if (gray) pixels[o] = sample(y, x, 0);
      else if (colour === 3) {
        const k = sample(y, x, 0);
        if (!palette || 3 * k + 2 >= palette.length) bad('PNG palette index out of range');
        pixels.set(palette.subarray(3 * k, 3 * k + 3), o);
      } else for (let c = 0; c < 3; c++) pixels[o + c] = sample(y, x, c);
    }
  }
  return { width, height, channels: gray ? 1 : 3, pixels };
}

function decodeBmp(b: Uint8Array): Image {
  const dataAt = le32(b, 10);
  const width = le32(b, 18) | 0;
  const rawHeight = le32(b, 22) | 0;
  const bits = le16(b, 28);
  const compression = le32(b, 30);
  if (compression !== 0 && !(compression === 3 && bits === 32)) bad(`compressed BMP (method ${compression}) is not supported`);
  if (bits !== 8 && bits !== 24 && bits !== 32) bad(`${bits}-bit BMP is not supported`);
  const height = Math.abs(rawHeight);
  const stride = Math.ceil((width * bits) / 32) * 4;
  const paletteAt = 14 + le32(b, 14);
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    // Rows are stored bottom-up unless the height is negative.
    const row = dataAt + (rawHeight > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const p = bits === 8 ? paletteAt + 4 * b[row + x]! : row + x * (bits >> 3);
      const o = (y * width + x) * 3;
      [pixels[o], pixels[o + 1], pixels[o + 2]] = [b[p + 2]!, b[p + 1]!, b[p]!]; // stored BGR
    }
  }
  return { width, height, channels: 3, pixels };
}

function decodePnm(b: Uint8Array): Image {
  const kind = b[1]! - 48; // P2/P3 ASCII, P5/P6 binary; 2 and 5 are gray
  let at = 2;
  const token = (): number => {
    for (;;) {
      while (at < b.length && /\s/.test(String.fromCharCode(b[at]!))) at++;
      if (b[at] !== 35) break; // '#' comment to end of line
      while (at < b.length && b[at] !== 10) at++;
    }
    let s = '';
    while (at < b.length && !/\s/.test(String.fromCharCode(b[at]!))) s += String.fromCharCode(b[at++]!);
    return Number(s);
  };
  const width = token();
  const height = token();
  const maxval = token();
  if (maxval > 255) bad('PNM with more than 8 bits per sample is not supported');
  const channels = kind === 2 || kind === 5 ? 1 : 3;
  const n = width * height * channels;
  const pixels = new Uint8Array(n);
  at++; // the single whitespace byte before binary data
  for (let i = 0; i < n; i++) {
    const v = kind >= 5 ? b[at + i]! : token();
    pixels[i] = maxval === 255 ? v : Math.round((v * 255) / maxval);
  }
  return { width, height, channels, pixels };
}

function decodeImage(b: Uint8Array): Image {
  const starts = (...sig: number[]) => sig.every((v, i) => b[i] === v);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return decodePng(b);
  if (starts(0x42, 0x4d)) return decodeBmp(b);
  if (b[0] === 0x50 && [2, 3, 5, 6].includes(b[1]! - 48)) return decodePnm(b);
  if (starts(0xff, 0xd8)) bad('JPEG decoding is not implemented in the reference interpreter');
  bad('the image format (TIFF, WebP, JPEG 2000 or unknown) is not supported');
}

defineOnnxEvals(['ImageDecoder'], (ctx) => {
  const img = decodeImage(ctx.tensor(0).data as Uint8Array);
  const format = ctx.string('pixel_format', 'RGB');
  const n = img.width * img.height;
  const outC = format === 'Grayscale' ? 1 : 3;
  const out = new Uint8Array(n * outC);
  const p = img.pixels;
  for (let i = 0; i < n; i++) {
    if (img.channels === 1) out.fill(p[i]!, i * outC, (i + 1) * outC);
    else if (outC === 1) out[i] = (p[3 * i]! * 19595 + p[3 * i + 1]! * 38470 + p[3 * i + 2]! * 7471 + 0x8000) >> 16;
    else if (format === 'BGR') [out[3 * i], out[3 * i + 1], out[3 * i + 2]] = [p[3 * i + 2]!, p[3 * i + 1]!, p[3 * i]!];
    else out.set(p.subarray(3 * i, 3 * i + 3), 3 * i);
  }
  return [makeTensor('u8', [img.height, img.width, outC], out)];
});
