// Damaged models (random byte changes, cuts) must fail with a LatheError, never a bare exception
// or a hang. A fixed seed keeps any failure reproducible.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import { conformanceCases } from '../../ir/onnx/conformance-scan.ts';
import { importOnnxBytes } from '../../ir/onnx/import.ts';
import { AT, DT, f32, modelBytes, node, vi } from './build.ts';

function seeds(): Uint8Array[] {
  const body = { name: 'body', input: [vi('s', DT.FLOAT, [1])], node: [node('Relu', ['s'], ['t'])], output: [vi('t', DT.FLOAT, [1])] };
  const own = modelBytes({
    graph: {
      input: [vi('x', DT.FLOAT, ['n', 4])],
      initializer: [f32('w', [4], [1, 2, 3, 4]), { name: 'k', dims: [2], dataType: DT.INT64, int64Data: [2, -1] }],
      node: [
        node('Add', ['x', 'w'], ['a'], { attribute: [{ name: 'g', type: AT.GRAPH, g: body }] }),
        node('Reshape', ['a', 'k'], ['y']),
      ],
      valueInfo: [vi('a', DT.FLOAT, ['n', 4])],
      output: [vi('y', DT.FLOAT, null)],
    },
  });
  // A few real models too, when the conformance data is installed.
  const real = conformanceCases().filter((_, i) => i % 97 === 0).map((c) => new Uint8Array(readFileSync(c.file)));
  return [own, ...real];
}

test('damaged models fail with LatheErrors only', () => {
  let s = 20251126;
  const rnd = (n: number) => Math.floor(((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * n);
  const bare: string[] = [];
  for (const seed of seeds()) {
    for (let trial = 0; trial < 150; trial++) {
      let b = new Uint8Array(seed);
      if (trial % 5 === 0) b = b.subarray(0, rnd(b.length));
      else for (let k = 0, n = 1 + rnd(3); k < n; k++) b[rnd(b.length)] = rnd(256);
      try {
        importOnnxBytes(b);
      } catch (e) {
        if (!(e instanceof LatheError)) bare.push(`trial ${trial}: ${(e as Error).stack}`);
      }
    }
  }
  assert.equal(bare, []);
});

test.run();
