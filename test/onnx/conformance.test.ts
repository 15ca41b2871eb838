// Every model of the ONNX conformance data (apt: libonnx-testdata, 1,072 cases) that uses only
// ops lathe accepts must import, verify, and round-trip through the text form:
// print(parse(print(m))) === print(m), and the parsed model is structurally equal to m.
// Cases that cannot import are listed with their reasons in import-expected-failures.json.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { modelsEqual } from '../../ir/equal.ts';
import { LatheError } from '../../ir/errors.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { CONFORMANCE_ROOT, conformanceCases } from '../../ir/onnx/conformance-scan.ts';
import { parseModel } from '../../ir/text/parse.ts';
import { printModel } from '../../ir/text/print.ts';
import { verifyModel } from '../../ir/verify.ts';

const expected: Record<string, string> = JSON.parse(
  readFileSync(new URL('./import-expected-failures.json', import.meta.url), 'utf8'),
);
delete expected._comment;

type Outcome = { ok: true } | { ok: false; stage: string; message: string };

function check(file: string): Outcome {
  let stage = 'import';
  try {
    const model = importOnnxFile(file);
    stage = 'verify';
    verifyModel(model, { file });
    stage = 'round-trip';
    const text = printModel(model, { baseDir: '/' });
    const parsed = parseModel(text, { file: `${file}.lir`, baseDir: '/' });
    const again = printModel(parsed, { baseDir: '/' });
    if (again !== text) return { ok: false, stage, message: 'print(parse(print(m))) differs from print(m)' };
    const diff = modelsEqual(parsed, model);
    if (diff) return { ok: false, stage, message: `parsed model differs: ${diff}` };
    return { ok: true };
  } catch (e) {
    const message = e instanceof LatheError ? `${e.kind}: ${e.message}` : `bare exception: ${(e as Error).stack}`;
    return { ok: false, stage, message };
  }
}

test('conformance models import, verify and round-trip through the text form', () => {
  const cases = conformanceCases();
  if (cases.length === 0) {
    console.log(`  (skipped: ${CONFORMANCE_ROOT} not found; scripts/setup.sh installs libonnx-testdata)`);
    return;
  }
  let passed = 0;
  const unexpected: string[] = [];
  const fixed: string[] = [];
  for (const c of cases) {
    const r = check(c.file);
    if (r.ok) {
      passed++;
      if (expected[c.name]) fixed.push(c.name);
    } else if (!expected[c.name] || r.stage !== 'import') {
      unexpected.push(`${c.name} (${r.stage}): ${r.message}`);
    }
  }
  console.log(`  conformance: ${passed} of ${cases.length} cases import, verify and round-trip`);
  assert.equal(unexpected, [], 'cases that should import, verify and round-trip');
  assert.equal(fixed, [], 'cases listed as expected failures that now pass: remove them from the list');
  assert.is(cases.length, 1072, 'the whole conformance suite was found');
});

test.run();
