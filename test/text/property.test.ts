// The round-trip guarantee on random models: print → parse → print is a fixed point and the
// parsed model is structurally equal to the original (large constants through a sidecar).
import { test } from 'uvu';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelsEqual } from '../../ir/equal.ts';
import { LatheError } from '../../ir/errors.ts';
import { parseModel } from '../../ir/text/parse.ts';
import { printModel } from '../../ir/text/print.ts';
import { sidecarSink } from '../../ir/text/weights.ts';
import { arbitraryModel } from './gen.ts';

test('random models round-trip through the text form', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-prop-'));
  let run = 0;
  try {
    fc.assert(
      fc.property(arbitraryModel(), fc.integer({ min: 0, max: 8 }), fc.boolean(), (model, inlineLimit, useSink) => {
        const weights = useSink ? sidecarSink(join(dir, `run${run++}.weights.bin`)) : undefined;
        const text = printModel(model, { baseDir: dir, inlineLimit, weights });
        weights?.close();
        const parsed = parseModel(text, { baseDir: dir });
        const again = printModel(parsed, { baseDir: dir, inlineLimit });
        if (again !== text) throw new Error(`reprint differs:\n${text}\n---\n${again}`);
        const diff = modelsEqual(parsed, model);
        if (diff) throw new Error(`${diff}\n${text}`);
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('damaged text fails with a located LatheError, never a crash', () => {
  const edits = fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.constantFrom('', '"', '%', '{', ']', '_', ',', '.', '\n', 'x', '1', '-')), { minLength: 1, maxLength: 3 });
  fc.assert(
    fc.property(arbitraryModel(), edits, (model, changes) => {
      let text = printModel(model, { baseDir: '/m' });
      for (const [at, del, ins] of changes) {
        const i = at % (text.length + 1);
        text = text.slice(0, i) + ins + text.slice(i + del);
      }
      try {
        parseModel(text, { baseDir: '/m' });
      } catch (e) {
        if (!(e instanceof LatheError) || e.where.line === undefined || e.where.column === undefined) throw e;
      }
    }),
  );
});

test.run();
