// `lathe compile --target cuda`: specialize, run the pass pipeline, lower, emit and write the
// artifact folder; `--build` then runs its build.sh (nvcc) and fails on any error or warning.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import type { Pipeline } from '../../passes/pipeline.ts';
import type { RunOptions } from '../../passes/manager.ts';
import { runPipeline } from '../../passes/manager.ts';
import { writeSafetensorsFile } from '../safetensors.ts';
import { specialize } from '../wgsl/specialize.ts';
import { cudaCpuDir } from './cpu/build.ts';
import type { CudaArtifacts } from './emit.ts';
import { emitCuda, WEIGHTS_FILE } from './emit.ts';
import { lowerCudaModel } from './lower.ts';

export interface CompileCudaOptions {
  readonly dims?: Readonly<Record<string, number>>;
  readonly inputShapes?: readonly (readonly number[] | undefined)[];
  readonly passes?: Pipeline;
  readonly passOptions?: RunOptions;
  readonly file?: string;
  /** GPUs the build script targets (compute capability × 10): default [80, 90]. */
  readonly archs?: readonly number[];
}

export function compileCuda(model: Model, options: CompileCudaOptions = {}): CudaArtifacts {
  let spec = specialize(model, { dims: options.dims, inputShapes: options.inputShapes, file: options.file });
  if (options.passes?.length) spec = runPipeline(spec, options.passes, { file: options.file, ...options.passOptions }).model;
  const program = lowerCudaModel(spec, { file: options.file });
  return emitCuda(program, { model: model.graph.name || 'model', dims: { ...options.dims }, archs: options.archs });
}

/** The harness headers travel with the sources, so the folder builds for a GPU or a CPU alone. */
const HEADERS = ['lathe_cuda_compat.h', 'cuda_cpu.h'];

export function writeCudaArtifacts(a: CudaArtifacts, dir: string): { dir: string; files: string[]; weightBytes: number } {
  const out = path.resolve(dir);
  mkdirSync(out, { recursive: true });
  const files: string[] = [];
  for (const [name, text] of Object.entries(a.sources)) {
    writeFileSync(path.join(out, name), text, name.endsWith('.sh') ? { mode: 0o755 } : undefined);
    files.push(name);
  }
  for (const h of HEADERS) {
    copyFileSync(path.join(cudaCpuDir, h), path.join(out, h));
    files.push(h);
  }
  const layout = writeSafetensorsFile(path.join(out, WEIGHTS_FILE), a.weights, { format: 'lathe-cuda', model: a.manifest.model });
  files.push(WEIGHTS_FILE);
  writeFileSync(path.join(out, 'manifest.json'), `${JSON.stringify(a.manifest, null, 1)}\n`);
  files.push('manifest.json');
  return { dir: out, files, weightBytes: layout.totalBytes - layout.dataStart };
}

/** Run the folder's build.sh (nvcc, warnings as errors); a failure is a BackendError with nvcc's output. */
export function buildCudaArtifacts(dir: string, archs?: readonly number[]): { ms: number; output: string } {
  const t0 = performance.now();
  const r = spawnSync('sh', [path.join(dir, 'build.sh')], {
    encoding: 'utf8',
    env: { ...process.env, ...(archs ? { ARCHS: archs.join(' ') } : {}) },
  });
  if (r.error) throw new LatheError('BackendError', `cannot run ${dir}/build.sh: ${r.error.message}`, { file: dir });
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new LatheError('BackendError', `nvcc failed on the generated CUDA (${dir}/build.sh):\n${output.trim().split('\n').slice(0, 30).join('\n')}`, { file: dir });
  return { ms: performance.now() - t0, output };
}
