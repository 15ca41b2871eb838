// `lathe compile`: a model to a folder of artifacts for a GPU target: WGSL (kernels, packed
// weights, a manifest and a standalone TypeScript host module) or CUDA (kernels and a host
// launcher in .cu files behind a C API, packed weights, a build script, a manifest).
import { relative } from 'node:path';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import type { RunOptions } from '../../passes/manager.ts';
import type { Pipeline } from '../../passes/pipeline.ts';
import { loadModel } from '../load.ts';
import type { Command } from './command.ts';
import { onePositional } from './command.ts';
import { PIPELINE_OPTIONS, pipelineFromArgs, runOptionsFromArgs } from './pass-args.ts';

const TARGETS = ['wgsl', 'cuda'] as const;

export const compile: Command = {
  name: 'compile',
  summary: 'compile a model to GPU kernels, packed weights and host code',
  help: `usage: lathe compile MODEL.onnx|FILE.lir --target wgsl|cuda -o DIR [--dim NAME=SIZE]... [--f16] [--build] [--arch 80,90] [--passes PIPELINE]

Binds the model's symbolic dims, runs the pass pipeline (default: 'default'), lowers every
node to GPU kernels and writes DIR. For --target wgsl:
  kernels/*.wgsl        one file per unique kernel
  weights.safetensors   the constants, in the types the kernels read
  manifest.json         inputs, outputs, buffers, kernels, dispatch order, peak memory
  model.ts, model.d.ts, model.js   a host module with no lathe dependency:
                        createModel(device, weights) → { run(inputs), destroy() }
For --target cuda:
  kernels.cuh           every distinct kernel once (entry k_<hash of its text>)
  model.cu              the host launcher: buffers planned by liveness, one launch per kernel
  lathe_model.h         the C API: lathe_model_create(weights, &m), lathe_model_run(m, inputs,
                        outputs, on_device), lathe_model_destroy(m), lathe_last_error()
  build.sh              nvcc → liblathe_model.so for sm_80 and sm_90 (ARCHS=...), warnings as errors
  weights.safetensors, manifest.json, lathe_cuda_compat.h, cuda_cpu.h (builds with g++ too)
An op with no lowering is an error naming the node (nothing falls back to the CPU).

options:
  --target wgsl|cuda   what to emit
  -o, --output DIR     the artifact folder (created; its kernels/ is replaced)
  --dim NAME=SIZE      the size of symbolic dim NAME (repeatable), e.g. --dim batch=1
  --f16                wgsl: let kernels use f16 (the device must offer shader-f16)
  --build              cuda: run build.sh (nvcc) and fail on any error or warning
  --arch LIST          cuda: compute capabilities to build for (default 80,90)
  --passes PIPELINE    passes to run first ('default' unless given; '' runs none)
  --load-pass FILE     load the passes a .ts/.js module exports (repeatable)
  --verify-each=false  do not verify the model after each pass
  -h, --help           this help`,
  options: {
    target: { type: 'string' },
    output: { type: 'string', short: 'o' },
    dim: { type: 'string', multiple: true },
    f16: { type: 'boolean' },
    build: { type: 'boolean' },
    arch: { type: 'string' },
    ...PIPELINE_OPTIONS,
  },
  async run(args) {
    const input = onePositional(this, args, 'model');
    const target = args.values.target as string | undefined;
    if (!target) throw new LatheError('UsageError', `lathe compile needs --target (${TARGETS.join(' or ')})\n\n${this.help}`);
    if (target !== 'wgsl' && target !== 'cuda') throw new LatheError('UsageError', `--target ${target}: unknown target; lathe compiles to wgsl or cuda`);
    const output = args.values.output as string | undefined;
    if (!output) throw new LatheError('UsageError', `lathe compile needs -o DIR, the artifact folder\n\n${this.help}`);
    const dims = parseDims((args.values.dim as string[] | undefined) ?? []);
    if (args.values.passes === undefined) args.values.passes = 'default';
    const pipeline = (await pipelineFromArgs(args))!;

    const model = loadModel(input);
    if (target === 'cuda') return compileToCuda(model, input, output, dims, pipeline, runOptionsFromArgs(args, input), args.values.build === true, parseArchs(args.values.arch as string | undefined));
    if (args.values.build || args.values.arch) throw new LatheError('UsageError', '--build and --arch are for --target cuda');
    // Loaded only for this command: the WGSL backend pulls in ts-morph and every kernel family.
    const { compileWgsl, writeWgslArtifacts } = await import('../../backends/wgsl/compile.ts');
    const artifacts = compileWgsl(model, { dims, f16: args.values.f16 === true, passes: pipeline, passOptions: runOptionsFromArgs(args, input), file: input });
    const written = writeWgslArtifacts(artifacts, output);
    for (const n of artifacts.notes) process.stderr.write(`note: ${n}\n`);
    const m = artifacts.manifest;
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
    process.stderr.write(
      `wrote ${relative(process.cwd(), written.dir) || '.'}/: ${m.dispatches.length} dispatches of ${m.kernels.length} kernels, ` +
        `${m.buffers.length} buffers (${mib(m.totalBytes)}; peak live ${mib(m.peakBytes)}), weights ${mib(written.weightBytes)}\n`,
    );
    return 0;
  },
};

async function compileToCuda(model: Model, input: string, output: string, dims: Record<string, number>, pipeline: Pipeline, passOptions: RunOptions, build: boolean, archs: number[] | undefined): Promise<number> {
  const { compileCuda, writeCudaArtifacts, buildCudaArtifacts } = await import('../../backends/cuda/compile.ts');
  const a = compileCuda(model, { dims, passes: pipeline, passOptions, file: input, archs });
  const written = writeCudaArtifacts(a, output);
  const m = a.manifest;
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  const where = relative(process.cwd(), written.dir) || '.';
  process.stderr.write(
    `wrote ${where}/: ${m.launches.length} launches of ${m.kernels.length} kernels, ${m.buffers.length} buffers ` +
      `(${mib(m.totalBytes)}; peak live ${mib(m.peakBytes)}), weights ${mib(written.weightBytes)}\n`,
  );
  if (build) {
    const b = buildCudaArtifacts(written.dir, archs);
    process.stderr.write(`built ${where}/liblathe_model.so for sm_${m.archs.join(', sm_')} in ${(b.ms / 1000).toFixed(1)} s\n`);
  }
  return 0;
}

/** `--arch 80,90` → [80, 90]. */
export function parseArchs(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const archs = v.split(',').map((s) => s.trim().replace(/^sm_/, ''));
  if (!archs.length || archs.some((a) => !/^\d{2,3}$/.test(a))) throw new LatheError('UsageError', `--arch takes compute capabilities like 80,90, not '${v}'`);
  return archs.map(Number);
}

/** `--dim batch=1 --dim seq=16` → { batch: 1, seq: 16 }. */
export function parseDims(items: readonly string[]): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const item of items) {
    const m = /^([^=\s]+)=(\d+)$/.exec(item.trim());
    if (!m) throw new LatheError('UsageError', `--dim takes NAME=SIZE with a whole number, not '${item}'`);
    const [, name, size] = m;
    if (name! in dims && dims[name!] !== Number(size)) throw new LatheError('UsageError', `--dim ${name} is given twice (${dims[name!]} and ${size})`);
    dims[name!] = Number(size);
  }
  return dims;
}
