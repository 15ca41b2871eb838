// The pass-related options several commands share (opt, run, conformance, passes): which
// pipeline, users' pass modules, and the pass manager's instrumentation.
import { LatheError } from '../../ir/errors.ts';
import type { RunOptions } from '../../passes/manager.ts';
import { parsePipeline, type Pipeline } from '../../passes/pipeline.ts';
import { loadPassModules } from '../plugins.ts';
import type { Command, ParsedArgs } from './command.ts';

export const PIPELINE_OPTIONS = {
  passes: { type: 'string' },
  'load-pass': { type: 'string', multiple: true },
  // A string so that `--verify-each=false` reads as written (node's parseArgs gives booleans no value).
  'verify-each': { type: 'string' },
} as const satisfies Command['options'];

export const INSTRUMENT_OPTIONS = {
  'print-ir-after-all': { type: 'boolean' },
  'print-ir-after-change': { type: 'boolean' },
  'print-ir-before': { type: 'string', multiple: true },
  'dump-dir': { type: 'string' },
  'time-passes': { type: 'boolean' },
} as const satisfies Command['options'];

export const PIPELINE_HELP = `  --passes PIPELINE       passes to run, e.g. 'canonicalize,fuse-attention' or 'default'
                          ('lathe passes' lists them and their options)
  --load-pass FILE        load the passes a .ts/.js module exports (repeatable)
  --verify-each=false     do not verify the model after each pass (default true)`;

export const INSTRUMENT_HELP = `  --print-ir-after-all    print the model (to stderr) after every pass
  --print-ir-after-change print the model after each pass that changed it
  --print-ir-before NAME  print the model before each run of pass NAME (repeatable)
  --dump-dir DIR          write DIR/000-input.lir, 001-<pass>.lir, … (one shared weights.bin)
  --time-passes           print a table of per-pass times at the end`;

/** Loads --load-pass modules, then parses --passes (undefined when not given). */
export async function pipelineFromArgs(args: ParsedArgs): Promise<Pipeline | undefined> {
  await loadPassModules((args.values['load-pass'] as string[] | undefined) ?? []);
  const text = args.values.passes as string | undefined;
  return text === undefined ? undefined : parsePipeline(text);
}

export function runOptionsFromArgs(args: ParsedArgs, file?: string): RunOptions {
  const v = args.values;
  const verify = v['verify-each'] as string | undefined;
  if (verify !== undefined && verify !== 'true' && verify !== 'false') {
    throw new LatheError('UsageError', `--verify-each takes true or false, not '${verify}'`);
  }
  return {
    file,
    verifyEach: verify !== 'false',
    printIrAfterAll: v['print-ir-after-all'] === true,
    printIrAfterChange: v['print-ir-after-change'] === true,
    printIrBefore: v['print-ir-before'] as string[] | undefined,
    dumpDir: v['dump-dir'] as string | undefined,
    timePasses: v['time-passes'] === true,
  };
}
