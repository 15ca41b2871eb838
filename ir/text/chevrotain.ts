// chevrotain, loaded from its single-file bundle. The package's entry point pulls in about 600
// lodash-es modules, which costs ~2 s at every CLI start; the bundle it ships beside it loads in
// ~0.1 s and is the same code. It is loaded with require (Node ≥ 20.19 requires ES modules
// synchronously) rather than a top-level await, so modules that import lathe's text form stay
// loadable from CommonJS code too (e.g. a user's pass compiled as CommonJS). Types come from the
// package itself.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Chevrotain from 'chevrotain';

const require = createRequire(import.meta.url);
const entry = require.resolve('chevrotain'); // …/chevrotain/lib/src/api.js
const bundle = join(dirname(entry), '..', 'chevrotain.mjs');

export const { createToken, Lexer, EmbeddedActionsParser } = require(bundle) as typeof Chevrotain;
