// The reference interpreter against the whole ONNX conformance data (1,072 cases in node/,
// pytorch-converted/, pytorch-operator/, simple/) and lathe's own fixtures, as IREE does: every
// case passes except those listed in conformance-expected.json with their reasons, and a listed
// case whose outcome changes fails the test too, so the list stays true.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFORMANCE_ROOT, findCases, runCase } from '../../compiler/conformance.ts';
import { existsSync } from 'node:fs';

const expected: Record<string, [string, string]> = JSON.parse(readFileSync(new URL('./conformance-expected.json', import.meta.url), 'utf8'));
delete expected._comment;

test('the whole conformance suite, against the expected failures', () => {
  if (!existsSync(CONFORMANCE_ROOT)) {
    console.log(`  (skipped: ${CONFORMANCE_ROOT} not found; scripts/setup.sh installs libonnx-testdata)`);
    return;
  }
  const results = findCases([CONFORMANCE_ROOT]).map((dir) => runCase(dir));
  const counts = { pass: 0, fail: 0, skip: 0 };
  const surprises: string[] = [];
  for (const r of results) {
    counts[r.status]++;
    const listed = expected[r.name];
    if (r.status === 'pass' && listed) surprises.push(`${r.name}: passes now; remove it from conformance-expected.json`);
    if (r.status !== 'pass' && (!listed || listed[0] !== r.status)) surprises.push(`${r.name}: ${r.status}: ${r.reason}`);
  }
  console.log(`  conformance: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped of ${results.length}`);
  assert.equal(surprises, []);
  assert.is(results.length, 1072);
});

test('the PyTorch fixtures reproduce PyTorch\'s outputs', () => {
  const fixtures = findCases([fileURLToPath(new URL('../../fixtures', import.meta.url))]);
  assert.is(fixtures.length, 4); // gpt2-tiny, vit-tiny, dit-block, outlier-block
  for (const dir of fixtures) {
    const r = runCase(dir);
    assert.is(r.status, 'pass', `${r.name}: ${r.reason}`);
  }
});

test.run();
