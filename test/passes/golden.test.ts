// Every golden file in test/passes/golden/ (format: test/golden-runner.ts), one test per case
// (named file:case), run with the built-in passes.
import { join } from 'node:path';
import { test } from 'uvu';
import { registerGoldenTests } from '../golden-runner.ts';

if (registerGoldenTests(test, join(import.meta.dirname, 'golden')) === 0) test('no golden files yet', () => {});

test.run();
