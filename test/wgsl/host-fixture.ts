// A tiny program written by hand (no lowering involved) for testing the host generator: two
// kernels over five elements, a weight, a uniform struct with an f32 and a u32, an i64 input
// stored as i32 that shares a buffer with another input at an offset (both read-only: WebGPU
// forbids a dispatch to bind one buffer twice when either binding writes).
import { encodeSafetensors } from '../../backends/safetensors.ts';
import type { Manifest } from '../../backends/wgsl/manifest.ts';
import { packUniforms } from '../../backends/wgsl/uniforms.ts';

const words = (b: ArrayBuffer) => [...new Uint32Array(b)];

// y = x * w + bias, over n elements
const AXPB = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
struct Uniforms {
  bias: f32,
  n: u32,
};
@group(0) @binding(3) var<uniform> u: Uniforms;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= u.n) { return; }
  y[i] = x[i] * w[i] + u.bias;
}
`;
// out[i] = ids[i] * 2 + i32(y[i])
const MIX = `@group(0) @binding(0) var<storage, read> ids: array<i32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> o: array<i32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= 3u) { return; }
  o[i] = ids[i] * 2 + i32(y[i]);
}
`;

export const W = [1, 2, 3, 4, 5];
export const BIAS = 0.5;

/** Expected outputs for inputs x (5 floats) and ids (3 integers). */
export function expected(x: readonly number[], ids: readonly number[]): { y: number[]; o: number[] } {
  const y = x.map((v, i) => Math.fround(Math.fround(v * W[i]!) + BIAS));
  return { y, o: ids.map((v, i) => v * 2 + Math.trunc(y[i]!)) };
}

export function handMadeProgram(): { manifest: Manifest; kernels: string[]; weights: Uint8Array } {
  const t = (name: string, dtype: string, shape: number[], storage: 'f32' | 'i32', buffer: number, offset: number) =>
    ({ name, dtype, shape, storage, buffer, offset, bytes: shape.reduce((a, b) => a * b, 1) * 4 });
  const manifest: Manifest = {
    format: 'lathe-wgsl/1',
    model: 'hand-made',
    dims: {},
    f16: false,
    features: [],
    inputs: [t('x', 'f32', [5], 'f32', 0, 0), t('ids', 'i64', [3], 'i32', 0, 256)],
    outputs: [t('y', 'f32', [5], 'f32', 2, 0), t('o', 'i32', [3], 'i32', 3, 0)],
    weights: { file: 'weights.safetensors', tensors: [t('w', 'f32', [5], 'f32', 1, 0)] },
    buffers: [
      { id: 0, size: 268, kind: 'input', values: ['x', 'ids'] },
      { id: 1, size: 20, kind: 'weight', values: ['w'] },
      { id: 2, size: 20, kind: 'output', values: ['y'] },
      { id: 3, size: 12, kind: 'output', values: ['o'] },
    ],
    kernels: [
      { key: 'axpb', file: 'kernels/axpb-0.wgsl', bindings: [{ access: 'read', elem: 'f32' }, { access: 'read', elem: 'f32' }, { access: 'read_write', elem: 'f32' }], hasUniforms: true },
      { key: 'mix', file: 'kernels/mix-1.wgsl', bindings: [{ access: 'read', elem: 'i32' }, { access: 'read', elem: 'f32' }, { access: 'read_write', elem: 'i32' }], hasUniforms: false },
    ],
    dispatches: [
      {
        name: 'n0/axpb', node: 'n0', op: 'Hand', kernel: 0,
        bindings: [{ buffer: 0, offset: 0, size: 20, value: 'x' }, { buffer: 1, offset: 0, size: 20, value: 'w' }, { buffer: 2, offset: 0, size: 20, value: 'y' }],
        uniforms: { bias: BIAS, n: 5 },
        uniformData: words(packUniforms([{ name: 'bias', type: 'f32', value: BIAS }, { name: 'n', type: 'u32', value: 5 }])),
        workgroups: [1, 1, 1],
      },
      {
        name: 'n1/mix', node: 'n1', op: 'Hand', kernel: 1,
        bindings: [{ buffer: 0, offset: 256, size: 12, value: 'ids' }, { buffer: 2, offset: 0, size: 20, value: 'y' }, { buffer: 3, offset: 0, size: 12, value: 'o' }],
        uniforms: {},
        uniformData: [],
        workgroups: [1, 1, 1],
      },
    ],
    totalBytes: 268 + 20 + 20 + 12,
    peakBytes: 268 + 32,
  };
  const weights = encodeSafetensors([{ name: 'w', dtype: 'f32', shape: [5], bytes: () => new Uint8Array(new Float32Array(W).buffer) }]);
  return { manifest, kernels: [AXPB, MIX], weights };
}
