// Import → export → import gives back the same Model, for every conformance model lathe imports
// and for the fixtures; and exporting the re-imported model writes the same bytes again (the
// export is a fixed point). The exporter writes lathe's own node names (generated ones included),
// so no difference needs whitelisting; the producer is passed through so it compares equal.
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { modelsEqual } from '../../ir/equal.ts';
import type { Model } from '../../ir/graph.ts';
import { conformanceCases, CONFORMANCE_ROOT } from '../../ir/onnx/conformance-scan.ts';
import { exportOnnx } from '../../ir/onnx/export.ts';
import { importOnnxBytes, importOnnxFile } from '../../ir/onnx/import.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

/** Why the round trip of `file` fails, or undefined; 'skip' when lathe does not import it. */
function roundTrip(file: string): string | undefined | 'skip' {
  let first: Model;
  try {
    first = importOnnxFile(file);
  } catch {
    return 'skip';
  }
  try {
    const opts = { producer: first.producer ?? '' };
    const bytes = exportOnnx(first, opts);
    const second = importOnnxBytes(bytes, { file: `${file} (exported)`, baseDir: path.dirname(file) });
    const diff = modelsEqual(first, second);
    if (diff) return `re-imported model differs: ${diff}`;
    const again = exportOnnx(second, opts);
    if (Buffer.compare(Buffer.from(bytes), Buffer.from(again)) !== 0) return 'exporting the re-imported model writes different bytes';
    return undefined;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

test('conformance models round-trip through export', () => {
  const cases = conformanceCases();
  if (cases.length === 0) {
    console.log(`  (skipped: ${CONFORMANCE_ROOT} not found; scripts/setup.sh installs libonnx-testdata)`);
    return;
  }
  let passed = 0;
  let skipped = 0;
  const failures: string[] = [];
  for (const c of cases) {
    const r = roundTrip(c.file);
    if (r === 'skip') skipped++;
    else if (r) failures.push(`${c.name}: ${r}`);
    else passed++;
  }
  console.log(`  export round trip: ${passed} of ${cases.length - skipped} importable conformance models (${skipped} do not import)`);
  assert.equal(failures, []);
  assert.ok(passed > 1000, 'the conformance suite was found and imported');
});

test('fixtures round-trip through export', () => {
  const names = readdirSync(FIXTURES).filter((n) => existsSync(path.join(FIXTURES, n, 'model.onnx')));
  assert.ok(names.length >= 3);
  for (const n of names) assert.is(roundTrip(path.join(FIXTURES, n, 'model.onnx')), undefined, n);
});

test.run();
