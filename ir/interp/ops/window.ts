// Sliding-window geometry shared by Conv, ConvTranspose and the pools: output sizes and pads
// from kernel, strides, dilations, pads and auto_pad (and ceil_mode for pools), and the per-dim
// offset tables that turn a window position into input element offsets.
import { evalError } from '../registry.ts';
import type { EvalContext } from '../registry.ts';

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Padding before each spatial dim (the pads after only shape the output size). */
  padBegin: number[];
  padEnd: number[];
  out: number[];
}

/** Geometry of a forward window op over `spatial` input dims. */
export function windowGeometry(ctx: EvalContext, spatial: readonly number[], kernel: readonly number[], ceilMode = false): Window {
  const r = spatial.length;
  const strides = [...ctx.ints('strides', new Array(r).fill(1))];
  const dilations = [...ctx.ints('dilations', new Array(r).fill(1))];
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const pads = [...ctx.ints('pads', new Array(2 * r).fill(0))];
  const padBegin: number[] = [];
  const padEnd: number[] = [];
  const out: number[] = [];
  for (let d = 0; d < r; d++) {
    const ext = (kernel[d]! - 1) * dilations[d]! + 1;
    const i = spatial[d]!;
    const s = strides[d]!;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const o = Math.ceil(i / s);
      const total = Math.max(0, (o - 1) * s + ext - i);
      padBegin.push(autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2));
      padEnd.push(total - padBegin[d]!);
      out.push(o);
    } else if (autoPad === 'VALID') {
      padBegin.push(0);
      padEnd.push(0);
      out.push(Math.max(0, Math.ceil((i - ext + 1) / s)));
    } else if (autoPad === 'NOTSET') {
      const span = i + pads[d]! + pads[d + r]! - ext;
      let o = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
      // With ceil_mode the last window must start inside the input or the begin padding.
      if (ceilMode && (o - 1) * s >= i + pads[d]!) o--;
      padBegin.push(pads[d]!);
      padEnd.push(pads[d + r]!);
      out.push(Math.max(0, o));
    } else throw evalError(`unknown auto_pad '${autoPad}'`);
  }
  return { kernel: [...kernel], strides, dilations, padBegin, padEnd, out };
}

/**
 * For kernel offset k along dim d: table[o] = input coordinate · inStride for each output
 * position o, or -Infinity where the window reads padding.
 */
export function offsetTable(w: Window, d: number, k: number, inDim: number, inStride: number): Float64Array {
  const t = new Float64Array(w.out[d]!);
  for (let o = 0; o < t.length; o++) {
    const i = o * w.strides[d]! - w.padBegin[d]! + k * w.dilations[d]!;
    t[o] = i >= 0 && i < inDim ? i * inStride : -Infinity;
  }
  return t;
}

/** Every multi-index of a shape, in row-major order. */
export function multiIndices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const n = shape.reduce((a, b) => a * b, 1);
  const c = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    out.push([...c]);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++c[d]! < shape[d]!) break;
      c[d] = 0;
    }
  }
  return out;
}
