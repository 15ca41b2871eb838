// The benchmark runner (`npm run bench`). Each benchmark measures its tasks in child processes
// (bench/tasks/*.ts, one process per measurement), prints a table and writes
// bench/results/<name>.json with the date and the machine's facts.
//
//   npm run bench                      # every benchmark
//   npm run bench -- import            # only the named ones
//   npm run bench -- import --repeat 5 # measurements per task (default 3)
//   npm run bench -- --no-save         # print only, leave bench/results/ alone
//   npm run bench -- --list
//
// To add a benchmark: write bench/benchmarks/<name>.ts exporting a `Benchmark`, its child tasks in
// bench/tasks/, and add it to BENCHMARKS below.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { importBenchmark } from './benchmarks/import.ts';
import { interpBenchmark } from './benchmarks/interp.ts';
import { passesBenchmark } from './benchmarks/passes.ts';
import { svdquantBenchmark } from './benchmarks/svdquant.ts';
import { wgslBenchmark } from './benchmarks/wgsl.ts';
import type { Benchmark, ResultsFile } from './benchmarks/types.ts';
import { machineFacts } from './lib/machine.ts';

/** Every benchmark, in the order `npm run bench` runs them. */
export const BENCHMARKS: readonly Benchmark[] = [importBenchmark, passesBenchmark, interpBenchmark, wgslBenchmark, svdquantBenchmark];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');

/** JSON replacer: fractional numbers to 6 significant digits (more is noise). */
function roundFloats(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v;
}

function usage(): string {
  const names = BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.description}`).join('\n');
  return `usage: npm run bench -- [NAME...] [--repeat N] [--no-save] [--list]\n\nbenchmarks:\n${names}`;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        repeat: { type: 'string', default: '3' },
        'no-save': { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${usage()}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || values.list) {
    console.log(usage());
    return 0;
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) {
    console.error(`--repeat must be a positive integer, not ${values.repeat}`);
    return 2;
  }
  const unknown = positionals.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}\n\n${usage()}`);
    return 2;
  }
  const selected = positionals.length ? BENCHMARKS.filter((b) => positionals.includes(b.name)) : BENCHMARKS;

  const machine = machineFacts(ROOT);
  console.log(`machine: ${machine.cpu} (${machine.cpus} CPUs, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB), ${machine.os}, node ${machine.node}, load ${machine.loadAverage1m}`);
  if (machine.loadAverage1m > machine.cpus / 2) console.log(`note: the machine is busy (load ${machine.loadAverage1m}); timings will be noisy`);
  let failed = 0;
  for (const bench of selected) {
    console.log(`\n== ${bench.name}: ${bench.description}`);
    const date = new Date().toISOString();
    try {
      const outcome = await bench.run({ root: ROOT, repeat, log: (line) => console.log(line) });
      console.log(`\n${outcome.report}`);
      if (!values['no-save']) {
        const file: ResultsFile = { benchmark: bench.name, description: bench.description, date, machine, repeat, results: outcome.results };
        mkdirSync(RESULTS, { recursive: true });
        const out = path.join(RESULTS, `${bench.name}.json`);
        writeFileSync(out, `${JSON.stringify(file, roundFloats, 2)}\n`);
        console.log(`\nwrote ${path.relative(ROOT, out)}`);
      }
    } catch (e) {
      failed++;
      console.error(`\n${bench.name} failed (results not written): ${(e as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
