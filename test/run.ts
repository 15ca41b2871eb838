// Runs every test file (test/**/*.test.ts) with uvu and closes with the line CI reads:
// `N passed, N failed`. Usage: node --import tsx test/run.ts [pattern]
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// uvu does not export its bin; resolve it beside the package's main file.
const uvuBin = require.resolve('uvu').replace(/dist[\/]index\.js$/, 'bin.js');
// Only *.test.ts files are tests; an optional argument narrows them further (e.g. 'onnx/').
const pattern = `^(?=.*${process.argv[2] ?? ''}).*\\.test\\.ts$`;
const result = spawnSync(process.execPath, ['--import', 'tsx', uvuBin, 'test', pattern], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, NO_COLOR: '1' },
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
const out = result.stdout ?? '';
process.stdout.write(out);
const count = (label: string) => Number(/* uvu's summary */ new RegExp(`${label}:\\s+(\\d+)`).exec(out)?.[1] ?? 0);
const total = count('Total');
const passed = count('Passed');
const failed = total - passed - count('Skipped');
const crashed = result.status !== 0 && failed === 0;
console.log(`${passed} passed, ${crashed ? Math.max(1, failed) : failed} failed`);
process.exit(result.status === 0 && total > 0 ? 0 : 1);
