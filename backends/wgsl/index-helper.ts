// The typed index helper: every kernel's offset ↔ indices arithmetic is written here, once.
// Shapes and strides are run-time uniforms; only the rank is compile-time, so one compiled
// kernel serves every shape of that rank. Host-side, views (broadcast, transpose, slice, reshape)
// are plain strides + offset over an index space, and `coalesce` merges dims that every view
// walks contiguously, so a broadcast add of [8,64,64]+[64] runs as rank 2 and a same-shape add
// as rank 1.
import type { KernelUniform } from './kernel.ts';
import { uniformAt } from './uniforms.ts';
import { numElements, stridesOf } from '../../ir/types.ts';

/** numpy broadcasting as strides: `inShape`'s strides laid over `outShape`'s dims, 0 where broadcast. */
export { numElements, stridesOf };

export function broadcastStrides(inShape: readonly number[], outShape: readonly number[], inStrides = stridesOf(inShape)): number[] {
  const r = outShape.length;
  const out = new Array<number>(r).fill(0);
  for (let i = 0; i < inShape.length; i++) {
    const o = r - inShape.length + i;
    if (inShape[i] !== 1) out[o] = inStrides[i]!;
  }
  return out;
}

/** numpy's broadcast shape of several shapes. */
export function broadcastShapes(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    s.forEach((d, i) => {
      const o = rank - s.length + i;
      if (d !== 1) out[o] = d;
    });
  }
  return out;
}

/**
 * Merge dims of an index space that every view walks contiguously, and drop size-1 dims.
 * Returns the new shape and each view's new strides (always rank ≥ 1).
 */
export function coalesce(shape: readonly number[], views: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const keep = shape.map((d, i) => i).filter((i) => shape[i] !== 1);
  const dims: number[] = [];
  const st: number[][] = views.map(() => []);
  for (const i of keep) {
    const last = dims.length - 1;
    const mergeable = last >= 0 && views.every((v, k) => st[k]![last] === v[i]! * shape[i]!);
    if (mergeable) {
      dims[last]! *= shape[i]!;
      views.forEach((v, k) => (st[k]![last] = v[i]!));
    } else {
      dims.push(shape[i]!);
      views.forEach((v, k) => st[k]!.push(v[i]!));
    }
  }
  if (dims.length === 0) return { shape: [1], strides: views.map(() => [0]) };
  return { shape: dims, strides: st };
}

/** An index space of a given shape: flat index → indices (`array<u32, R>`). */
export class IndexSpace {
  readonly rank: number;
  readonly shape: readonly number[];
  constructor(readonly name: string, shape: readonly number[]) {
    this.shape = shape.length ? shape : [1];
    this.rank = this.shape.length;
  }
  get type(): string {
    return `array<u32, ${this.rank}>`;
  }
  get uniforms(): KernelUniform[] {
    return [{ name: `${this.name}_shape`, type: 'u32', value: [...this.shape] }];
  }
  /** `fn <name>_indices(flat: u32) -> array<u32, R>`: row-major decomposition, unrolled. */
  get helper(): string {
    const lines = [`fn ${this.name}_indices(flat: u32) -> ${this.type} {`, `  var i: ${this.type};`, '  var r = flat;'];
    for (let d = this.rank - 1; d > 0; d--) {
      const dim = uniformAt(`${this.name}_shape`, d);
      lines.push(`  i[${d}] = r % ${dim};`, `  r = r / ${dim};`);
    }
    lines.push('  i[0] = r;', '  return i;', '}');
    return lines.join('\n');
  }
  indices(flat: string): string {
    return `${this.name}_indices(${flat})`;
  }
  /** WGSL for dim d's size. */
  dim(d: number): string {
    return uniformAt(`${this.name}_shape`, d);
  }
}

/**
 * An affine view over an index space of rank R: offset = base + Σ i[d]·strides[d]. Strides are
 * i32 (a negative-step Slice walks backwards); the sum is formed in i32 and returned as u32.
 */
export class View {
  readonly rank: number;
  constructor(
    readonly name: string,
    readonly strides: readonly number[],
    readonly base = 0,
  ) {
    this.rank = Math.max(1, strides.length);
  }
  get uniforms(): KernelUniform[] {
    return [
      { name: `${this.name}_strides`, type: 'i32', value: this.strides.length ? [...this.strides] : [0] },
      { name: `${this.name}_base`, type: 'i32', value: this.base },
    ];
  }
  get helper(): string {
    const terms = Array.from({ length: this.rank }, (_, d) => `i32(i[${d}]) * ${uniformAt(`${this.name}_strides`, d)}`);
    return `fn ${this.name}_at(i: array<u32, ${this.rank}>) -> u32 {\n  return u32(u.${this.name}_base + ${terms.join(' + ')});\n}`;
  }
  at(indices: string): string {
    return `${this.name}_at(${indices})`;
  }
}

/**
 * How an operand is read at a flat index of the kernel's (coalesced) index space: `same` when its
 * strides are the contiguous ones (offset = flat), `scalar` when all are 0, else through a View.
 * The mode is part of the kernel key; the strides are not.
 */
export type ReadMode = 'same' | 'scalar' | 'view';

export function readMode(shape: readonly number[], strides: readonly number[], base = 0): ReadMode {
  if (base === 0 && strides.every((s) => s === 0)) return 'scalar';
  const c = stridesOf(shape);
  if (base === 0 && strides.every((s, d) => s === c[d] || shape[d] === 1)) return 'same';
  return 'view';
}

/** An operand read over an index space: its mode, its View (for `view`) and the WGSL offset. */
export class Operand {
  readonly mode: ReadMode;
  readonly view: View;
  constructor(name: string, space: IndexSpace, strides: readonly number[], base = 0) {
    this.mode = readMode(space.shape, strides, base);
    this.view = new View(name, strides, base);
  }
  get uniforms(): KernelUniform[] {
    return this.mode === 'view' ? this.view.uniforms : [];
  }
  get helper(): string | undefined {
    return this.mode === 'view' ? this.view.helper : undefined;
  }
  /** WGSL offset given the flat index and the indices variable name. */
  offset(flat: string, indices: string): string {
    return this.mode === 'same' ? flat : this.mode === 'scalar' ? '0u' : this.view.at(indices);
  }
}
