// Where large constants go when a model is printed: a sidecar file `<name>.weights.bin` beside the
// .lir, one tensor after another, each 64-byte aligned (so a loader can map it straight into
// typed arrays). The .lir then refers to them as @file("<name>.weights.bin", offset, length).
import { appendFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FileRange } from '../tensor-data.ts';

export interface WeightSink {
  /** Store these bytes; returns where they now live (an absolute path). */
  write(bytes: Uint8Array): FileRange;
  /**
   * Whether ranges of this file must be copied through the sink rather than referred to (the
   * sink is about to replace that file, e.g. re-saving a model over its own sidecar).
   */
  replaces?(path: string): boolean;
}

const ALIGN = 64;

/** The sidecar weight file of a .lir path: model.lir → model.weights.bin. */
export function sidecarPath(lirPath: string): string {
  return resolve(lirPath.replace(/\.lir$/, '') + '.weights.bin');
}

/** A sink writing the weight file at `weightPath` (e.g. sidecarPath(lirPath)). */
export function sidecarSink(weightPath: string): SidecarWeights {
  return new SidecarWeights(weightPath);
}

/**
 * Writes into `<weightPath>.partial` and renames it into place on close(), so the old file stays
 * readable while a model that points into it is re-saved over it.
 */
export class SidecarWeights implements WeightSink {
  readonly path: string;
  private readonly partial: string;
  private offset = 0;
  private started = false;
  // The same buffer written twice (a weight shared by two constants) is stored once.
  private readonly seen = new WeakMap<Uint8Array, FileRange>();

  constructor(weightPath: string) {
    this.path = resolve(weightPath);
    this.partial = `${this.path}.partial`;
  }

  /** Bytes written so far, padding included (0: no weight file is left behind). */
  get bytesWritten(): number {
    return this.offset;
  }

  write(bytes: Uint8Array): FileRange {
    const known = this.seen.get(bytes);
    if (known) return known;
    if (!this.started) {
      writeFileSync(this.partial, new Uint8Array(0));
      this.started = true;
    }
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) appendFileSync(this.partial, new Uint8Array(pad));
    this.offset += pad;
    appendFileSync(this.partial, bytes);
    const range: FileRange = { kind: 'file', path: this.path, offset: this.offset, length: bytes.length };
    this.offset += bytes.length;
    this.seen.set(bytes, range);
    return range;
  }

  replaces(path: string): boolean {
    return resolve(path) === this.path;
  }

  /** Move the written weights into place (removes a stale weight file when nothing was written). */
  close(): void {
    if (this.started) renameSync(this.partial, this.path);
    else rmSync(this.path, { force: true });
  }
}
