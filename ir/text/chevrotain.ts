// chevrotain, loaded from its single-file bundle. The package's entry point pulls in about 600
// lodash-es modules, which costs ~2 s at every CLI start; the bundle it ships beside it loads in
// ~0.1 s and is the same code. Types still come from the package itself.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Chevrotain from 'chevrotain';

const entry = createRequire(import.meta.url).resolve('chevrotain'); // …/chevrotain/lib/src/api.js
const bundle = join(dirname(entry), '..', 'chevrotain.mjs');

export const { createToken, Lexer, EmbeddedActionsParser } = (await import(pathToFileURL(bundle).href)) as typeof Chevrotain;
