// Golden pass tests: a .lir file holds a pipeline and cases; each case is a model in IR text
// followed by FileCheck lines (test/filecheck.ts) checked against the printed result of running
// the pipeline on that model.
//
//   // RUN: canonicalize,fuse-attention
//   graph @main(%x: f32[4]) -> (f32[4]) {
//     %y = onnx.Identity(%x) : f32[4]
//     return %y
//   }
//   // CHECK: graph @main
//   // CHECK-NOT: onnx.Identity
//   // CHECK: return %x
//   // -----
//   graph @main(...) ...            (the next case; a case may have its own `// RUN:` line)
//
// When the pipeline throws, the output checked is `error: <Kind>: <message>`, so a case can
// expect a failure (`// CHECK: error: VerifyError: {{.*}}pass 'bad' broke the IR`); a case whose
// checks never mention `error:` fails with the error itself.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { LatheError } from '../ir/errors.ts';
import type { Model } from '../ir/graph.ts';
import { parseModel } from '../ir/text/parse.ts';
import { printModel } from '../ir/text/print.ts';
import { runPipeline, type RunOptions } from '../passes/manager.ts';
import { parsePipeline } from '../passes/pipeline.ts';
import { passRegistry, type PassRegistry } from '../passes/registry.ts';
import { CheckSyntaxError, fileCheck, numbered, parseChecks, type CheckLine } from './filecheck.ts';

export interface GoldenCase {
  /** 0-based position in the file. */
  readonly index: number;
  /** File line where the case starts. */
  readonly line: number;
  /** The case text, preceded by blank lines so parse errors give the file's line numbers. */
  readonly text: string;
  readonly pipeline: string;
  readonly checks: readonly CheckLine[];
}

export interface GoldenFile {
  readonly path: string;
  readonly cases: readonly GoldenCase[];
}

const SPLIT = /^\s*\/\/\s*-----\s*$/;
const RUN = /^\s*\/\/\s*RUN:(.*)$/;

export function readGoldenFile(path: string): GoldenFile {
  const lines = readFileSync(path, 'utf8').split('\n');
  const cases: GoldenCase[] = [];
  let fileRun: string | undefined;
  let start = 0;
  const take = (end: number) => {
    const body = lines.slice(start, end);
    const runs = body.map((l) => RUN.exec(l)).filter((m) => m !== null);
    if (runs.length > 1) throw new Error(`${path}:${start + 1}: a case has more than one RUN line`);
    const own = runs[0]?.[1]!.trim();
    // The first RUN line of the file is the default for every case after it.
    if (cases.length === 0 && own !== undefined) fileRun = own;
    const pipeline = own ?? fileRun;
    if (pipeline === undefined) throw new Error(`${path}: no '// RUN: <pipeline>' line before case ${cases.length} (line ${start + 1})`);
    cases.push({
      index: cases.length,
      line: start + 1,
      text: '\n'.repeat(start) + body.join('\n'),
      pipeline,
      checks: withFile(path, () => parseChecks(body.join('\n'), start + 1)),
    });
  };
  lines.forEach((l, i) => {
    if (!SPLIT.test(l)) return;
    take(i);
    start = i + 1;
  });
  take(lines.length);
  for (const c of cases) {
    if (c.checks.length === 0) throw new Error(`${path}:${c.line}: case ${c.index} has no CHECK lines`);
  }
  return { path, cases };
}

function withFile<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CheckSyntaxError) throw new CheckSyntaxError(`${path}: ${e.message}`);
    throw e;
  }
}

/** The .lir files of a folder, sorted. */
export function goldenFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.lir')).sort().map((n) => join(dir, n));
}

export type CaseOutcome = { ok: true; output: string } | { ok: false; output: string; message: string };

/** Runs one case: parse, pipeline (verify-each on), print, FileCheck. */
export function runGoldenCase(file: GoldenFile, c: GoldenCase, registry: PassRegistry = passRegistry(), opts: RunOptions = {}): CaseOutcome {
  const where = `${relative(process.cwd(), file.path)}:${c.line} (case ${c.index}, RUN: ${c.pipeline})`;
  let output: string;
  let error: unknown;
  try {
    const model: Model = parseModel(c.text, { file: file.path });
    const result = runPipeline(model, parsePipeline(c.pipeline, registry), { file: file.path, out: () => {}, ...opts });
    output = printModel(result.model);
  } catch (e) {
    error = e;
    output = e instanceof LatheError ? `error: ${e.kind}: ${e.message}\n` : `error: ${(e as Error).stack ?? String(e)}\n`;
  }
  if (error !== undefined && !c.checks.some((k) => k.pattern.includes('error:'))) {
    return { ok: false, output, message: `${where}\nthe pipeline failed:\n${output}` };
  }
  const r = fileCheck(output, c.checks, relative(process.cwd(), file.path));
  if (r.ok) return { ok: true, output };
  return { ok: false, output, message: `${where}\n${r.message}\n\noutput:\n${numbered(output)}` };
}

/** A test name for a case: `fold-constants.lir:2`. */
export function caseName(file: GoldenFile, c: GoldenCase): string {
  return `${basename(file.path)}:${c.index}`;
}

/**
 * Registers one uvu test per case of every golden file in `dir`; a file that cannot be read
 * (a malformed CHECK line, no RUN line) becomes one failing test instead of stopping the others.
 */
export function registerGoldenTests(test: (name: string, fn: () => void) => void, dir: string, registry?: PassRegistry, prefix = ''): number {
  const files = goldenFiles(dir);
  for (const path of files) {
    let file: GoldenFile;
    try {
      file = readGoldenFile(path);
    } catch (e) {
      const message = (e as Error).message;
      test(`${prefix}${basename(path)}`, () => {
        throw new Error(message);
      });
      continue;
    }
    for (const c of file.cases) {
      test(`${prefix}${caseName(file, c)}`, () => {
        const r = runGoldenCase(file, c, registry);
        if (!r.ok) throw new GoldenFailure(r.message);
      });
    }
  }
  return files.length;
}

/** A failed case; its message carries the whole story (check, output), so no stack is shown. */
class GoldenFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoldenFailure';
    this.stack = this.name; // one line: uvu prints the stack from its first line break on
  }
}
