#!/usr/bin/env node
// Entry point for `lathe` / `npx lathe`: lathe is written in TypeScript and run through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
