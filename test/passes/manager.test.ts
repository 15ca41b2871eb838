// The pass manager: instrumentation, failures that name the pass, an input left untouched,
// analyses cached and invalidated.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import { parseModel } from '../../ir/text/parse.ts';
import { printModel } from '../../ir/text/print.ts';
import { useDef } from '../../passes/analyses.ts';
import { AnalysisCache, runPipeline, type RunOptions } from '../../passes/manager.ts';
import { parsePipeline } from '../../passes/pipeline.ts';
import * as T from './test-passes.ts';

const registry = T.testRegistry();
const model = (): Model =>
  parseModel(`lathe.model {opsets = {onnx = 17}}
graph @main(%x: f32[4]) -> (f32[4]) {
  %w = const f32[4] dense<[1.0, 2.0, 3.0, 4.0]>
  %y = onnx.Identity(%x) : f32[4]
  %z = onnx.Mul(%y, %w) : f32[4]
  return %z
}
`);

function run(m: Model, pipeline: string, opts: RunOptions = {}) {
  const printed: string[] = [];
  const r = runPipeline(m, parsePipeline(pipeline, registry), { out: (s) => printed.push(s), ...opts });
  return { ...r, printed: printed.join('') };
}

function throwsLathe(f: () => unknown): LatheError {
  try {
    f();
  } catch (e) {
    if (e instanceof LatheError) return e;
    throw e;
  }
  throw new Error('expected a LatheError');
}

test('runs passes in order and records which changed the model', () => {
  const r = run(model(), 'read-use-def,drop-identity,read-use-def');
  assert.equal(r.records.map((x) => [x.pass, x.changed]), [['read-use-def#1', false], ['drop-identity', true], ['read-use-def#2', false]]);
  assert.not.match(printModel(r.model), /Identity/);
  assert.match(printModel(r.model), /onnx\.Mul\(%x, %w\)/);
});

test('a pass that throws leaves the input untouched, and the error names the pass and node', () => {
  const m = model();
  const before = printModel(m);
  const e = throwsLathe(() => run(m, 'drop-identity,throw-halfway'));
  assert.is(e.kind, 'ShapeError');
  assert.match(e.message, /node 'z': pass 'throw-halfway' failed: cannot go on/);
  assert.is(e.where.node, 'z');
  assert.is(printModel(m), before);
  // A crash that is not a LatheError becomes a PassError naming the pass.
  const crash = throwsLathe(() => run(m, 'throw-halfway{lathe=false}'));
  assert.is(crash.kind, 'PassError');
  assert.match(crash.message, /pass 'throw-halfway' threw TypeError/);
  assert.is(printModel(m), before);
});

test('a pass that assigns into its input is stopped (the input is frozen)', () => {
  const m = model();
  const e = throwsLathe(() => run(m, 'mutate-in-place'));
  assert.match(e.message, /pass 'mutate-in-place' threw TypeError: Cannot assign to read only property 'name'/);
  assert.is(m.graph.name, 'main');
});

test('verify-each names the pass that broke the IR, with the location; off, the broken model comes back', () => {
  const e = throwsLathe(() => run(model(), 'drop-identity,break-ir'));
  assert.is(e.kind, 'VerifyError');
  assert.match(e.message, /value 'z': pass 'break-ir' broke the IR: @main returns 'z', which is not defined/);
  assert.is(e.where.value, 'z');
  const off = run(model(), 'break-ir', { verifyEach: false });
  assert.match(printModel(off.model), /return %z\n/);
  // The input is verified before any pass, so a bad input is not blamed on the first pass.
  const bad = parseModel(`graph @main(%x: f32[4]) -> (f32[5]) {\n  %y = onnx.Relu(%x) : f32[5]\n  return %y\n}`);
  const ie = throwsLathe(() => run(bad, 'drop-identity'));
  assert.match(ie.message, /the input does not verify \(before any pass ran\)/);
});

test('a pass returning something other than a model is named', () => {
  const r = T.testRegistry();
  r.register({ name: 'returns-nothing', summary: 's', options: {}, run: () => undefined as unknown as Model });
  const e = throwsLathe(() => runPipeline(model(), parsePipeline('returns-nothing', r), { out: () => {} }));
  assert.match(e.message, /pass 'returns-nothing' returned undefined instead of a model/);
});

test('print-ir-after-change prints only passes that changed the model; after-all prints every one; before', () => {
  const change = run(model(), 'read-use-def,drop-identity', { printIrAfterChange: true }).printed;
  assert.equal(change.match(/\/\/ ----- IR .*/g), ["// ----- IR after 'drop-identity' -----"]);
  assert.match(change, /onnx\.Mul\(%x, %w\)/);
  const all = run(model(), 'read-use-def,drop-identity', { printIrAfterAll: true }).printed;
  assert.equal(all.match(/\/\/ ----- IR .*/g), ["// ----- IR after 'read-use-def' (unchanged) -----", "// ----- IR after 'drop-identity' -----"]);
  const before = run(model(), 'read-use-def,drop-identity', { printIrBefore: ['drop-identity'] }).printed;
  assert.equal(before.match(/\/\/ ----- IR .*/g), ["// ----- IR before 'drop-identity' -----"]);
  assert.match(before, /onnx\.Identity/);
});

test('big in-memory constants print as a size, not inline, in IR prints', () => {
  const text = `graph @main(%x: f32[100]) -> (f32[100]) {\n  %w = const f32[100] dense<[${Array(100).fill('1.0').join(', ')}]>\n  %y = onnx.Mul(%x, %w) : f32[100]\n  return %y\n}`;
  const printed = run(parseModel(text), 'drop-identity', { printIrAfterAll: true }).printed;
  assert.match(printed, /%w = const f32\[100\] @file\("<in memory>", offset = 0, length = 400\)/);
});

test('dump-dir writes numbered dumps with one shared weight file; time-passes writes a table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-dump-'));
  const text = `graph @main(%x: f32[100]) -> (f32[100]) {\n  %w = const f32[100] dense<[${Array(100).fill('2.0').join(', ')}]>\n  %i = onnx.Identity(%x) : f32[100]\n  %y = onnx.Mul(%i, %w) : f32[100]\n  return %y\n}`;
  const r = run(parseModel(text), 'read-use-def,drop-identity,read-use-def', { dumpDir: dir, timePasses: true });
  assert.equal(readdirSync(dir).sort(), ['000-input.lir', '001-read-use-def_1.lir', '002-drop-identity.lir', '003-read-use-def_2.lir', 'weights.bin']);
  // The weights are stored once and every dump refers to them; each dump parses back.
  assert.is(readFileSync(join(dir, 'weights.bin')).length, 400);
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.lir'))) {
    const t = readFileSync(join(dir, f), 'utf8');
    assert.match(t, /@file\("weights\.bin", offset = 0, length = 400\)/);
    parseModel(t, { file: join(dir, f) });
  }
  assert.not.match(readFileSync(join(dir, '002-drop-identity.lir'), 'utf8'), /Identity/);
  assert.match(r.printed, /pass\s+ms\s+verify ms\s+changed\nread-use-def#1\s+[\d.]+\s+[\d.]+\s+no\ndrop-identity\s+[\d.]+\s+[\d.]+\s+yes\n/);
  assert.match(r.printed, /\ntotal\s+[\d.]+/);
});

test('dump-dir keeps the dumps up to a failure, and the broken model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-dump-'));
  throwsLathe(() => run(model(), 'drop-identity,break-ir', { dumpDir: dir }));
  assert.equal(readdirSync(dir).sort(), ['000-input.lir', '001-drop-identity.lir', '002-break-ir.broken.lir']);
  assert.match(readFileSync(join(dir, '002-break-ir.broken.lir'), 'utf8'), /%z_renamed = onnx\.Mul/);
});

test('analyses: cached per model, kept by unchanged passes and by `preserves`, dropped otherwise', () => {
  let computed = 0;
  const counting = { name: useDef.name, compute: (m: Model) => (computed++, useDef.compute(m)) };
  const r = T.testRegistry();
  r.register({ name: 'read', summary: 's', options: {}, run: (m, ctx) => (ctx.analysis(counting), m) });
  r.register({ name: 'touch', summary: 's', options: {}, run: (m) => ({ ...m }) });
  r.register({ name: 'touch-preserving', summary: 's', options: {}, preserves: ['use-def'], run: (m) => ({ ...m }) });
  const go = (p: string) => {
    computed = 0;
    runPipeline(model(), parsePipeline(p, r), { out: () => {} });
    return computed;
  };
  assert.is(go('read,read,read'), 1);
  assert.is(go('read,touch,read'), 2);
  assert.is(go('read,touch-preserving,read'), 1);
  // The cache on its own.
  const m = model();
  const cache = new AnalysisCache(m);
  cache.get(useDef);
  assert.equal(cache.cached(), ['use-def']);
  cache.advance(m);
  assert.equal(cache.cached(), ['use-def']);
  cache.advance({ ...m });
  assert.equal(cache.cached(), []);
});

test('use-def: producers, uses (subgraphs and outputs included), consumers at the defining level', () => {
  const m = parseModel(`lathe.model {opsets = {onnx = 17}}
graph @main(%x: f32[4], %c: bool[]) -> (f32[4], f32[4]) {
  %a = onnx.Relu(%x) : f32[4]
  %o = onnx.If(%c) {then_branch = graph @t() -> (f32[4]) {
    %n = onnx.Neg(%a) : f32[4]
    return %n
  }, else_branch = graph @e() -> (f32[4]) {
    return %a
  }} : f32[4]
  %unused = onnx.Neg(%x) : f32[4]
  return %o, %a
}
`);
  const ud = useDef.compute(m);
  assert.is(ud.producer('a')!.name, 'a');
  assert.is(ud.producer('x'), undefined);
  assert.is(ud.defs.get('x')!.kind, 'input');
  assert.is(ud.defs.get('n')!.kind, 'result');
  assert.equal(ud.usesOf('a').map((u) => (u.kind === 'operand' ? `${u.node.name}#${u.index}` : `@${u.graph.name}[${u.index}]`)), ['n#0', '@e[0]', '@main[1]']);
  assert.equal(ud.consumers('a').map((n) => n.name), ['o']);
  assert.equal(ud.consumers('x').map((n) => n.name), ['a', 'unused']);
  assert.ok(ud.isUnused('unused'));
  assert.not.ok(ud.isUnused('o'));
});

test.run();
