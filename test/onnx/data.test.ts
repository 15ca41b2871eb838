// The bad-input files of test/onnx/data/make.ts, written to a temp folder and imported from disk,
// give the outcome they were made for, and the message names the file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { FILES, writeDataFiles } from './data/make.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'lathe-onnx-data-'));
writeDataFiles(dir);

for (const [name, [, outcome]] of Object.entries(FILES)) {
  if (!name.endsWith('.onnx')) continue;
  test(`data/${name} → ${outcome}`, () => {
    const file = path.join(dir, name);
    let got = 'ok';
    try {
      importOnnxFile(file);
    } catch (e) {
      if (!(e instanceof LatheError)) throw e;
      got = e.kind;
      assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    }
    assert.is(got, outcome);
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
