// Every model of the ONNX conformance data (apt: libonnx-testdata) must import or fail with a
// LatheError; none may be called malformed. How many import fully grows as ops are declared; the
// count is printed here (the lead asserts a floor once the op declarations have landed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFORMANCE_ROOT, scanConformance, summarize } from '../../ir/onnx/conformance-scan.ts';

test('conformance models import or fail with a LatheError', () => {
  const results = scanConformance();
  if (!results) {
    console.log(`  (skipped: ${CONFORMANCE_ROOT} not found; apt-get install libonnx-testdata)`);
    return;
  }
  const counts = summarize(results);
  console.log(`  conformance import: ${results.length} cases`, JSON.stringify(counts));
  const bare = results.filter((r) => r.kind === 'BareException');
  assert.equal(bare.map((r) => `${r.name}: ${r.message}`), [], 'failures that are not LatheErrors');
  // These are all valid models: the protobuf layer must read every one.
  const malformed = results.filter((r) => r.kind === 'ProtobufError');
  assert.equal(malformed.map((r) => `${r.name}: ${r.message}`), [], 'conformance models read as malformed');
  assert.ok(results.length > 1000, 'the whole suite was found');
});

test.run();
