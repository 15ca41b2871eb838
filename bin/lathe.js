#!/usr/bin/env node
// Entry point for `lathe` / `npx lathe`: lathe is written in TypeScript and run through tsx.
import { register } from 'tsx/esm/api';

register();
// `lathe dump model.onnx | head`: a closed pipe ends the output, not with a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
