// Compile checks with nvcc: the generated kernels built to a cubin per target GPU with warnings
// as errors, and ptxas's resource report (registers, spills, stack/local memory, shared memory)
// parsed per kernel, so tests can hold every kernel to zero spills. Results are cached by the
// hash of the source and flags (nvcc takes about a second per file and architecture).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LatheError } from '../../ir/errors.ts';
import { cudaCpuDir, defaultCacheDir } from './cpu/build.ts';

export interface KernelResources {
  readonly entry: string;
  readonly arch: number;
  readonly registers: number;
  readonly barriers: number;
  readonly stackBytes: number;
  readonly spillStoreBytes: number;
  readonly spillLoadBytes: number;
  /** Static shared memory (dynamic shared memory is a launch parameter, not in the cubin). */
  readonly sharedBytes: number;
}

let nvccPath: string | null | undefined;

/** nvcc's path (PATH, then /usr/local/cuda/bin), or null where there is none. */
export function findNvcc(): string | null {
  if (nvccPath !== undefined) return nvccPath;
  for (const c of ['nvcc', '/usr/local/cuda/bin/nvcc']) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return (nvccPath = c);
  }
  return (nvccPath = null);
}

// A spill is a warning made an error. Local memory is read from the report instead of made an
// error here: CUDA's own sin/cos/tan keep a small array for huge arguments, which callers may allow.
const FLAGS = ['-std=c++17', '-O3', '-cubin', '--resource-usage', '-Xptxas', '-warn-spills', '--Werror', 'all-warnings'];

/**
 * Compile `kernels` (the text of a kernels.cuh) for each architecture and return every kernel's
 * resources. A compile error or warning (a spill is a warning, made an error) is a BackendError
 * with nvcc's first lines.
 */
export function kernelResources(kernels: string, archs: readonly number[] = [80, 90]): KernelResources[] {
  const nvcc = findNvcc();
  if (!nvcc) throw new LatheError('BackendError', 'nvcc is not installed (CUDA toolkit); the CUDA compile checks need it');
  const compat = readFileSync(path.join(cudaCpuDir, 'lathe_cuda_compat.h'), 'utf8');
  const out: KernelResources[] = [];
  for (const arch of archs) {
    const key = createHash('sha256').update(kernels).update(compat).update(FLAGS.join(' ')).update(String(arch)).digest('hex').slice(0, 24);
    const dir = path.join(defaultCacheDir, 'nvcc', key);
    const report = path.join(dir, 'report.txt');
    let text: string;
    if (existsSync(report)) text = readFileSync(report, 'utf8');
    else {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'kernels.cuh'), kernels);
      writeFileSync(path.join(dir, 'kernels.cu'), '#include "kernels.cuh"\n');
      const r = spawnSync(nvcc, [...FLAGS, `-arch=sm_${arch}`, '-I', cudaCpuDir, '-o', path.join(dir, 'kernels.cubin'), path.join(dir, 'kernels.cu')], { encoding: 'utf8' });
      text = `${r.stdout}${r.stderr}`;
      if (r.error || r.status !== 0) {
        throw new LatheError('BackendError', `nvcc -arch=sm_${arch} rejects the generated kernels (${dir}/kernels.cu):\n${text.split('\n').filter((l) => !l.startsWith('ptxas info')).slice(0, 25).join('\n')}`);
      }
      writeFileSync(report, text);
    }
    out.push(...parseResourceUsage(text, arch));
  }
  return out;
}

/** ptxas's `--resource-usage` lines, per entry function. */
export function parseResourceUsage(text: string, arch: number): KernelResources[] {
  const out: KernelResources[] = [];
  let cur: { entry: string; stack?: number; stores?: number; loads?: number } | undefined;
  for (const line of text.split('\n')) {
    const entry = /Compiling entry function '([^']+)'/.exec(line);
    if (entry) {
      cur = { entry: entry[1]! };
      continue;
    }
    const props = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (props && cur) {
      cur.stack = Number(props[1]);
      cur.stores = Number(props[2]);
      cur.loads = Number(props[3]);
      continue;
    }
    const used = /Used (\d+) registers(?:, used (\d+) barriers)?(?:.*?, (\d+) bytes smem)?/.exec(line);
    if (used && cur) {
      out.push({
        entry: cur.entry,
        arch,
        registers: Number(used[1]),
        barriers: Number(used[2] ?? 0),
        stackBytes: cur.stack ?? 0,
        spillStoreBytes: cur.stores ?? 0,
        spillLoadBytes: cur.loads ?? 0,
        sharedBytes: Number(used[3] ?? 0),
      });
      cur = undefined;
    }
  }
  return out;
}
