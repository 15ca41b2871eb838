// The bundled fixtures (a GPT-2-style decoder, a ViT, a DiT block) compiled to WGSL, run on the
// adapter, and compared with their expected outputs: the whole path, every kernel family.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCaseOn } from '../../compiler/conformance.ts';
import { gpuTest } from './helpers.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures', import.meta.url));

for (const name of ['gpt2-tiny', 'vit-tiny', 'dit-block']) {
  gpuTest(test, `${name} runs as WGSL and matches its expected outputs`, async () => {
    const r = await runCaseOn(path.join(FIXTURES, name), 'wgsl');
    assert.is(r.status, 'pass', r.reason);
  });
}

test.run();
