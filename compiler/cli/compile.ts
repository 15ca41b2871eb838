// `lathe compile`: a model to a folder of artifacts for a GPU target. WGSL today (kernels, packed
// weights, a manifest and a standalone TypeScript host module); CUDA is named so that asking for it
// gets a clear answer instead of an unknown-option error.
import { relative } from 'node:path';
import { LatheError } from '../../ir/errors.ts';
import { loadModel } from '../load.ts';
import type { Command } from './command.ts';
import { onePositional } from './command.ts';
import { PIPELINE_OPTIONS, pipelineFromArgs, runOptionsFromArgs } from './pass-args.ts';

const TARGETS = ['wgsl', 'cuda'] as const;

export const compile: Command = {
  name: 'compile',
  summary: 'compile a model to GPU kernels, packed weights and host code',
  help: `usage: lathe compile MODEL.onnx|FILE.lir --target wgsl -o DIR [--dim NAME=SIZE]... [--f16] [--passes PIPELINE]

Binds the model's symbolic dims, runs the pass pipeline (default: 'default'), lowers every
node to GPU kernels and writes DIR:
  kernels/*.wgsl        one file per unique kernel
  weights.safetensors   the constants, in the types the kernels read
  manifest.json         inputs, outputs, buffers, kernels, dispatch order, peak memory
  model.ts, model.d.ts, model.js   a host module with no lathe dependency:
                        createModel(device, weights) → { run(inputs), destroy() }
An op with no lowering is an error naming the node (nothing falls back to the CPU).

options:
  --target wgsl|cuda   what to emit (cuda: not implemented yet)
  -o, --output DIR     the artifact folder (created; its kernels/ is replaced)
  --dim NAME=SIZE      the size of symbolic dim NAME (repeatable), e.g. --dim batch=1
  --f16                let kernels use f16 (the device must offer shader-f16)
  --passes PIPELINE    passes to run first ('default' unless given; '' runs none)
  --load-pass FILE     load the passes a .ts/.js module exports (repeatable)
  --verify-each=false  do not verify the model after each pass
  -h, --help           this help`,
  options: {
    target: { type: 'string' },
    output: { type: 'string', short: 'o' },
    dim: { type: 'string', multiple: true },
    f16: { type: 'boolean' },
    ...PIPELINE_OPTIONS,
  },
  async run(args) {
    const input = onePositional(this, args, 'model');
    const target = args.values.target as string | undefined;
    if (!target) throw new LatheError('UsageError', `lathe compile needs --target (${TARGETS.join(' or ')})\n\n${this.help}`);
    if (target === 'cuda') {
      throw new LatheError('UsageError', `--target cuda: not implemented yet: issue 6 (the CUDA backend); what exists today is --target wgsl`);
    }
    if (target !== 'wgsl') throw new LatheError('UsageError', `--target ${target}: unknown target; lathe compiles to wgsl (cuda is issue 6)`);
    const output = args.values.output as string | undefined;
    if (!output) throw new LatheError('UsageError', `lathe compile needs -o DIR, the artifact folder\n\n${this.help}`);
    const dims = parseDims((args.values.dim as string[] | undefined) ?? []);
    if (args.values.passes === undefined) args.values.passes = 'default';
    const pipeline = (await pipelineFromArgs(args))!;

    const model = loadModel(input);
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
