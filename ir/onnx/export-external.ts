// Writing initializers to an ONNX external data file, so models past protobuf's 2 GB limit can be
// exported. Tensors are streamed to the file one at a time (file-backed weights in chunks), so a
// large model is never held in memory twice.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { LatheError } from '../errors.ts';
import type { ConstTensor } from '../tensor-data.ts';
import { expectedBytes } from '../tensor-data.ts';
import type { ExternalEntry } from './export-proto.ts';

export interface ExternalDataOptions {
  /** The file the tensor bytes are written to (created or truncated). */
  path: string;
  /** Initializers of at least this many bytes go to the file (default 1024, as ONNX's tools). */
  threshold?: number;
  /**
   * The location recorded in the model: relative to the model file's folder. Defaults to the
   * data file's base name, i.e. the data file sits beside the model.
   */
  location?: string;
}

export const DEFAULT_THRESHOLD = 1024;
// Large tensors start on a 64 KiB boundary so readers can map them straight from the file (the
// mapping granularity is 4 KiB on Linux, 64 KiB on Windows); small ones only on 16 bytes, so a
// model with many small weights does not grow much.
const BIG = 1 << 20;
const BIG_ALIGN = 1 << 16;
const SMALL_ALIGN = 16;
const CHUNK = 16 << 20;

/** Whether a tensor goes to the external file under this threshold (strings never do: ONNX has
 * no external layout for them; nor do empty tensors, which have no bytes to point at). */
export function goesExternal(t: ConstTensor, threshold: number): boolean {
  if (t.dtype === 'string') return false;
  const n = expectedBytes(t.dtype, t.shape);
  return n > 0 && n >= threshold;
}

export class ExternalWriter {
  readonly threshold: number;
  private readonly location: string;
  private readonly file: string;
  private fd: number;
  private offset = 0;

  constructor(opts: ExternalDataOptions) {
    this.threshold = opts.threshold ?? DEFAULT_THRESHOLD;
    this.file = opts.path;
    this.location = checkLocation(opts.location ?? path.basename(opts.path));
    try {
      this.fd = openSync(opts.path, 'w');
    } catch (e) {
      throw new LatheError('UsageError', `cannot write external data file: ${(e as Error).message}`, { file: opts.path });
    }
  }

  /** Writes `t` if it is large enough and says where it went; undefined keeps it inline. */
  place(t: ConstTensor): ExternalEntry | undefined {
    if (!goesExternal(t, this.threshold)) return undefined;
    const length = expectedBytes(t.dtype, t.shape);
    const align = length >= BIG ? BIG_ALIGN : SMALL_ALIGN;
    const start = Math.ceil(this.offset / align) * align;
    if (start > this.offset) this.write(new Uint8Array(start - this.offset));
    const d = t.data;
    if (d.kind === 'bytes') this.write(d.bytes);
    else if (d.kind === 'file') this.copyRange(d.path, d.offset, length);
    return { location: this.location, offset: start, length };
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private write(b: Uint8Array): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done);
    this.offset += b.length;
  }

  /** Copies a weight file range in chunks instead of loading the whole tensor. */
  private copyRange(src: string, offset: number, length: number): void {
    let fd: number;
    try {
      fd = openSync(src, 'r');
    } catch (e) {
      throw new LatheError('ExternalDataError', `cannot open weight file ${src}: ${(e as Error).message}`);
    }
    try {
      const buf = new Uint8Array(Math.min(CHUNK, Math.max(length, 1)));
      for (let done = 0; done < length; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, length - done), offset + done);
        if (n === 0) throw new LatheError('ExternalDataError', `weight file ${src} ended before byte ${offset + length}`);
        this.write(buf.subarray(0, n));
        done += n;
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** Readers (lathe's importer, ONNX Runtime) refuse locations outside the model's folder. */
function checkLocation(location: string): string {
  const bad =
    path.posix.isAbsolute(location) || path.win32.isAbsolute(location) ? 'is absolute' :
    location.split(/[\\/]/).includes('..') ? "contains '..'" :
    location.includes('\0') ? 'contains a NUL byte' :
    location === '' ? 'is empty' : undefined;
  if (bad) {
    throw new LatheError('UsageError', `external data location '${location}' ${bad}; it must be a path inside the model's folder`);
  }
  return location.split(path.sep).join('/');
}
