// Shared by the compile tests: type-checking generated code with the project's tsc, loading a
// generated host module, and comparing its outputs with the reference interpreter's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../../backends/wgsl/gpu.ts';
import type { Model, TensorInput, TensorOutput } from '../../backends/wgsl/host-runtime.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { toF64 } from '../../ir/interp/tensor.ts';

const TSC = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc');

/** A fresh folder under out/ (git-ignored; inside the checkout so tsc finds node_modules). */
export function scratchDir(prefix: string): string {
  const out = path.join(PROJECT_ROOT, 'out');
  mkdirSync(out, { recursive: true });
  return mkdtempSync(path.join(out, prefix));
}

// The two setups a consumer has: a browser page (the DOM lib, which declares WebGPU), and a Node
// host on Dawn's `webgpu` package (@webgpu/types and @types/node).
const SETUPS = {
  browser: { lib: ['ES2022', 'DOM'], types: [] },
  node: { lib: ['ES2022'], types: ['@webgpu/types', 'node'], skipLibCheck: true },
};
export type TscSetup = keyof typeof SETUPS;

/** Runs tsc --noEmit over the .ts files of `dir` under strict settings; exit code and messages. */
export function tsc(dir: string, setup: TscSetup): { code: number | null; out: string } {
  const tsconfig = {
    compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, allowImportingTsExtensions: true, ...SETUPS[setup] },
    include: ['*.ts'],
  };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const r = spawnSync(TSC, ['-p', dir], { encoding: 'utf8' });
  return { code: r.status, out: `${setup}: ${r.stdout}${r.stderr}` };
}

export interface HostModuleExports {
  createModel(device: GPUDevice, weights: ArrayBuffer | Uint8Array): Promise<Model<Record<string, TensorInput>, Record<string, TensorOutput>>>;
}

export async function importHost(file: string): Promise<HostModuleExports> {
  return (await import(pathToFileURL(file).href)) as HostModuleExports;
}

/** The interpreter's tensor as the array the host takes (i64 as BigInt64Array, floats as f32). */
export function hostInput(t: Tensor): TensorInput {
  const d = t.data;
  if (d instanceof Float32Array || d instanceof Int32Array || d instanceof BigInt64Array || d instanceof Uint8Array) return d;
  return Float32Array.from(toF64(t));
}

/** max |a − b| / max |b| (0 when both are all zero), and whether the shapes' sizes agree. */
export function relError(got: ArrayLike<number>, want: Tensor): number {
  const w = toF64(want);
  if (got.length !== w.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < w.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - w[i]!));
    scale = Math.max(scale, Math.abs(w[i]!));
  }
  if (Number.isNaN(diff)) return Infinity;
  return scale === 0 ? diff : diff / scale;
}
