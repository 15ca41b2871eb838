// What the exporter writes runs in ONNX Runtime and gives the right answers: the fixtures and a
// conformance cases ORT can load from their original files (every 5th case; all of them with
// LATHE_EXPORT_ORT_ALL=1, ~10 s) are imported, exported, and the exported bytes run in ORT (CPU)
// on test_data_set_0. Each output must match the expected one within the conformance tolerance; where
// ORT misses that even on the original file (its own deviation), it must match ORT's result on
// the original instead, which is all the exporter can answer for.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import ort from 'onnxruntime-node';
import { numberedFiles, readInputs, valueType } from '../../compiler/conformance.ts';
import { CONFORMANCE_TOLERANCE, mismatch } from '../../ir/interp/compare.ts';
import { readValuePb } from '../../ir/interp/pb.ts';
import type { RuntimeValue, Tensor } from '../../ir/interp/tensor.ts';
import { isTensor } from '../../ir/interp/tensor.ts';
import { fromOrtTensor, toOrtTensor } from '../../compiler/ort-reference.ts';
import { conformanceCases, CONFORMANCE_ROOT } from '../../ir/onnx/conformance-scan.ts';
import type { Model } from '../../ir/graph.ts';
import { exportOnnx, exportOnnxFile } from '../../ir/onnx/export.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { runPipeline } from '../../passes/manager.ts';
import { parsePipeline } from '../../passes/pipeline.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

type Session = Awaited<ReturnType<typeof ort.InferenceSession.create>>;
type OrtTensor = InstanceType<typeof ort.Tensor>;

/** Why a case cannot be fed through ORT's JS API, or undefined. */
class Unfeedable extends Error {}

function toOrt(v: RuntimeValue): OrtTensor {
  if (!isTensor(v)) throw new Unfeedable(`${v.kind} input (ORT's JS API feeds tensors only)`);
  try {
    return toOrtTensor(v);
  } catch (e) {
    throw new Unfeedable((e as Error).message);
  }
}

function fromOrt(o: OrtTensor): Tensor {
  try {
    return fromOrtTensor(o);
  } catch (e) {
    throw new Unfeedable((e as Error).message);
  }
}

// Sessions log at 'fatal' only: ORT would print the load error of every original it cannot run.
async function run(session: Session, feeds: Record<string, OrtTensor>): Promise<Tensor[]> {
  const out = await session.run(feeds);
  return session.outputNames.map((n) => fromOrt(out[n]!));
}

type Outcome = { status: 'ok' | 'skip' | 'fail'; why?: string; /** matched ORT's original, not the data */ asOriginal?: boolean };

/** What ORT loads: the exported bytes, or the path of an exported file. */
type Exporter = (model: Model) => Uint8Array | string;

/** Import `dir/model.onnx`, export it, run original and export in ORT, compare. */
async function checkCase(dir: string, exporter: Exporter = (m) => exportOnnx(m)): Promise<Outcome> {
  const file = path.join(dir, 'model.onnx');
  const set = path.join(dir, 'test_data_set_0');
  if (!existsSync(set)) return { status: 'skip', why: 'no test data' };
  let model;
  try {
    model = importOnnxFile(file);
  } catch {
    return { status: 'skip', why: 'lathe does not import it' };
  }
  const g = model.graph;
  let original: Session;
  try {
    original = await ort.InferenceSession.create(file, { logSeverityLevel: 4 });
  } catch {
    return { status: 'skip', why: 'ORT cannot load the original' };
  }
  let feeds: Record<string, OrtTensor>;
  let want: RuntimeValue[];
  let orig: Tensor[];
  try {
    feeds = Object.fromEntries(readInputs(g, set).map((v, i) => [g.inputs[i]!.name, toOrt(v)]));
    want = numberedFiles(set, 'output').map((f, i) => readValuePb(f, valueType(g, g.outputs[i]!)));
    orig = await run(original, feeds);
  } catch (e) {
    return { status: 'skip', why: e instanceof Unfeedable ? (e as Error).message : `ORT cannot run the original: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    await original.release();
  }
  let exported: Session;
  try {
    const what = exporter(model);
    exported = typeof what === 'string'
      ? await ort.InferenceSession.create(what, { logSeverityLevel: 4 })
      : await ort.InferenceSession.create(what, { logSeverityLevel: 4 });
  } catch (e) {
    return { status: 'fail', why: `ORT cannot load the export: ${(e as Error).message.split('\n')[0]}` };
  }
  try {
    const got = await run(exported, feeds);
    let asOriginal = false;
    for (let i = 0; i < want.length; i++) {
      if (!mismatch(got[i], want[i]!, CONFORMANCE_TOLERANCE)) continue;
      // ORT's own deviation from the expected data: the export must behave as the original does.
      const vsExpected = mismatch(orig[i], want[i]!, CONFORMANCE_TOLERANCE);
      const vsOriginal = mismatch(got[i], orig[i]!, CONFORMANCE_TOLERANCE);
      if (vsExpected && !vsOriginal) {
        asOriginal = true;
        continue;
      }
      return { status: 'fail', why: `output ${i} '${g.outputs[i]}': ${vsOriginal ?? mismatch(got[i], want[i]!)}` };
    }
    return { status: 'ok', asOriginal };
  } catch (e) {
    return { status: 'fail', why: `ORT cannot run the export: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    await exported.release();
  }
}

test('the fixtures, exported, run in ONNX Runtime and match their expected outputs', async () => {
  const names = readdirSync(FIXTURES).filter((n) => existsSync(path.join(FIXTURES, n, 'model.onnx'))).sort();
  assert.ok(names.length >= 3, 'fixtures found');
  for (const n of names) {
    const r = await checkCase(path.join(FIXTURES, n));
    assert.is(r.status, 'ok', `${n}: ${r.why}`);
  }
});

// The user's path: `lathe opt MODEL --passes … -o out.onnx`. The op recognizers are left out:
// they make lathe-only ops (lathe.Gelu, lathe.SiLU) that cannot be exported.
test('optimized fixtures (canonicalize without recognizers), exported, run in ONNX Runtime', async () => {
  const pipeline = parsePipeline('canonicalize{recognize=false}');
  for (const n of ['gpt2-tiny', 'vit-tiny', 'dit-block']) {
    let before = 0;
    let after = 0;
    const r = await checkCase(path.join(FIXTURES, n), (m) => {
      const optimized = runPipeline(m, pipeline).model;
      before = m.graph.nodes.length;
      after = optimized.graph.nodes.length;
      return exportOnnx(optimized);
    });
    assert.is(r.status, 'ok', `${n}: ${r.why}`);
    assert.ok(after < before, `${n}: the passes changed the graph (${before} → ${after} nodes)`);
  }
});

test('with external data, exported fixtures load in ONNX Runtime from their files', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lathe-export-ort-'));
  for (const n of ['gpt2-tiny', 'vit-tiny', 'dit-block']) {
    const file = path.join(dir, `${n}.onnx`);
    const data = path.join(dir, 'weights', `${n}.bin`);
    mkdirSync(path.dirname(data), { recursive: true });
    const r = await checkCase(path.join(FIXTURES, n), (m) => {
      exportOnnxFile(m, file, { externalData: { path: data, threshold: 4096 } });
      return file;
    });
    assert.is(r.status, 'ok', `${n}: ${r.why}`);
    assert.ok(statSync(data).size > statSync(file).size, `${n}: the weights went to ${data}`);
  }
});

test('conformance cases, exported, run in ONNX Runtime and match their expected outputs', async () => {
  const cases = conformanceCases();
  if (cases.length === 0) {
    console.log(`  (skipped: ${CONFORMANCE_ROOT} not found; scripts/setup.sh installs libonnx-testdata)`);
    return;
  }
  const all = process.env.LATHE_EXPORT_ORT_ALL === '1';
  const sample = all ? cases : cases.filter((_, i) => i % 5 === 0);
  const counts = { ok: 0, skip: 0, fail: 0, asOriginal: 0 };
  const failures: string[] = [];
  const skips: Record<string, number> = {};
  for (const c of sample) {
    const r = await checkCase(path.dirname(c.file));
    counts[r.status]++;
    if (r.asOriginal) counts.asOriginal++;
    if (r.status === 'fail') failures.push(`${c.name}: ${r.why}`);
    if (r.status === 'skip') skips[r.why!.replace(/: .*/, '')] = (skips[r.why!.replace(/: .*/, '')] ?? 0) + 1;
  }
  console.log(`  export → ORT: ${counts.ok} of ${sample.length} ${all ? '' : 'sampled '}cases run and match (${counts.asOriginal} of them where ORT misses the expected data on the original too, matching ORT's original instead), ${counts.fail} failed; skipped: ${JSON.stringify(skips)}`);
  assert.equal(failures, [], 'exported models ORT rejects or runs differently');
  assert.ok(counts.ok > sample.length * 0.8, 'most cases ran');
});

test.run();
