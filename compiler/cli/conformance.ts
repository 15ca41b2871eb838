import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import type { CaseResult } from '../conformance.ts';
import type { Target } from '../conformance.ts';
import { caseName, findCases, runCaseOn } from '../conformance.ts';
import type { Command } from './command.ts';
import { runPipeline } from '../../passes/manager.ts';
import { printPipeline } from '../../passes/pipeline.ts';
import { PIPELINE_HELP, PIPELINE_OPTIONS, pipelineFromArgs, runOptionsFromArgs } from './pass-args.ts';

export const conformance: Command = {
  name: 'conformance',
  summary: 'run ONNX-style test cases and compare with their expected outputs',
  help: `usage: lathe conformance DIR... [--json FILE] [-v] [--target interp|wgsl|cuda-cpu] [--order forward|reverse|random] [--passes PIPELINE]

Finds every case folder under the given folders (a folder with model.onnx and
test_data_set_*/input_N.pb, output_N.pb, as in the ONNX conformance data), runs each data set
on the reference interpreter and compares the outputs with the expected ones (relative 1e-3,
absolute 1e-5, NaN where NaN is expected). Prints the failures and skips with their reasons and
closes with 'N passed, N failed, N skipped'. Exits 1 when a case fails.
A case is skipped when it uses an op lathe does not accept (named in the reason).
With --passes each model goes through the pipeline before it runs, so one command checks that a
pipeline keeps a whole suite's outputs; a pass that fails or breaks the IR fails that case.
With --target wgsl each data set is compiled to WGSL kernels for its input shapes and run on the
WebGPU adapter (lavapipe, set up by scripts/setup-webgpu.sh) instead; a case whose op or dtype
has no WGSL lowering is skipped with the reason.
With --target cuda-cpu each data set is compiled to CUDA (the sources lathe compile --target cuda
writes) and run on the CPU harness: g++ against backends/cuda/cpu/cuda_cpu.h, CUDA threads as
fibers; --order picks the order a block's threads run in (a missing barrier shows in reverse or
random order).

options:
  --json FILE   write per-case results (name, status, reason, ops, ms) as JSON
  -v            also print passing cases
  --target T    interp (the reference interpreter, default), wgsl or cuda-cpu
  --order O     cuda-cpu: forward (default), reverse or random thread order
  -j, --jobs N  run the cases in N processes at once (cuda-cpu builds each case with g++)
  --shard K/N   run only every N-th case, starting at K (what --jobs gives each process)
${PIPELINE_HELP}
  -h, --help    this help`,
  options: {
    json: { type: 'string' },
    v: { type: 'boolean', short: 'v' },
    target: { type: 'string' },
    order: { type: 'string' },
    jobs: { type: 'string', short: 'j' },
    shard: { type: 'string' },
    ...PIPELINE_OPTIONS,
  },
  async run(args) {
    if (args.positionals.length === 0) throw new LatheError('UsageError', `lathe conformance needs at least one folder\n\n${this.help}`);
    let cases = findCases(args.positionals);
    if (cases.length === 0) throw new LatheError('UsageError', `no case folders (with model.onnx) under ${args.positionals.join(', ')}`);
    const jobs = Number(args.values.jobs ?? 1);
    if (!Number.isInteger(jobs) || jobs < 1) throw new LatheError('UsageError', `--jobs takes a whole number ≥ 1, not '${args.values.jobs}'`);
    if (jobs > 1) return runInProcesses(cases, jobs, args.values.json as string | undefined, args.values.v === true);
    if (args.values.shard !== undefined) {
      const m = /^(\d+)\/(\d+)$/.exec(String(args.values.shard));
      if (!m || Number(m[1]) >= Number(m[2])) throw new LatheError('UsageError', `--shard takes K/N with K < N, not '${args.values.shard}'`);
      cases = cases.filter((_, i) => i % Number(m[2]) === Number(m[1]));
    }
    const target = targetFromArgs(args.values.target);
    const pipeline = await pipelineFromArgs(args);
    const runOptions = runOptionsFromArgs(args);
    const transform = pipeline && ((m: Model) => runPipeline(m, pipeline, runOptions).model);
    if (pipeline) console.log(`pipeline: ${printPipeline(pipeline) || '(empty)'}`);
    const results: CaseResult[] = [];
    for (const dir of cases) {
      const r = await runCaseOn(dir, target, { transform, order: orderFromArgs(args.values.order) });
      results.push(r);
      if (r.status !== 'pass' || args.values.v) {
        console.log(`${r.status.toUpperCase().padEnd(4)}  ${r.name}${r.reason ? `  ${r.reason}` : ''}`);
      }
    }
    const count = (s: CaseResult['status']) => results.filter((r) => r.status === s).length;
    if (args.values.json) {
      writeFileSync(args.values.json as string, `${JSON.stringify(results.map(({ dir: _dir, ...r }) => r), null, 1)}\n`);
    }
    console.log(`${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
    return count('fail') > 0 ? 1 : 0;
  },
};

/**
 * --jobs N: the same command in N child processes, each with --shard i/N and a JSON file; their
 * results merged back into case order and printed as one run would.
 */
async function runInProcesses(cases: readonly string[], jobs: number, json: string | undefined, verbose: boolean): Promise<number> {
  const argv = process.argv.slice(2);
  const drop = new Set(['-j', '--jobs', '--json']);
  const base: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (drop.has(a)) i++;
    else if (!/^(--jobs|--json)=/.test(a)) base.push(a);
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lathe-conformance-'));
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/lathe.js');
  const codes = await Promise.all(
    Array.from({ length: jobs }, (_, k) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [bin, ...base, '--shard', `${k}/${jobs}`, '--json', path.join(tmp, `${k}.json`)], { stdio: ['ignore', 'ignore', 'inherit'] });
        child.on('close', (code) => resolve(code ?? 1));
      }),
    ),
  );
  const byName = new Map<string, Omit<CaseResult, 'dir'>>();
  codes.forEach((code, k) => {
    const file = path.join(tmp, `${k}.json`);
    if (!existsSync(file)) throw new LatheError('BackendError', `conformance process ${k + 1} of ${jobs} exited with ${code} and wrote no results`);
    for (const r of JSON.parse(readFileSync(file, 'utf8')) as Omit<CaseResult, 'dir'>[]) byName.set(r.name, r);
  });
  rmSync(tmp, { recursive: true, force: true });
  const results = cases.map((dir) => byName.get(caseName(dir))!).filter(Boolean);
  for (const r of results) if (r.status !== 'pass' || verbose) console.log(`${r.status.toUpperCase().padEnd(4)}  ${r.name}${r.reason ? `  ${r.reason}` : ''}`);
  if (json) writeFileSync(json, `${JSON.stringify(results, null, 1)}\n`);
  const count = (s: CaseResult['status']) => results.filter((r) => r.status === s).length;
  console.log(`${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
  return count('fail') > 0 ? 1 : 0;
}

/** --target: interp (default), wgsl or cuda-cpu. */
export function targetFromArgs(v: unknown): Target {
  if (v === undefined) return 'interp';
  if (v === 'interp' || v === 'wgsl' || v === 'cuda-cpu') return v;
  throw new LatheError('UsageError', `--target takes interp, wgsl or cuda-cpu, not '${String(v)}'`);
}

export function orderFromArgs(v: unknown): 'forward' | 'reverse' | 'random' | undefined {
  if (v === undefined || v === 'forward' || v === 'reverse' || v === 'random') return v;
  throw new LatheError('UsageError', `--order takes forward, reverse or random, not '${String(v)}'`);
}
