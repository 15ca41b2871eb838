// The shape of a CLI subcommand: its help text, its options (node:util parseArgs), and a run
// function. main.ts dispatches to these and turns errors into messages and exit codes.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LatheError } from '../../ir/errors.ts';

export interface Command {
  name: string;
  summary: string;
  /** Full help: usage line, description, options. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: ParsedArgs): Promise<number> | number;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: cmd.options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (e) {
    throw new LatheError('UsageError', `${(e as Error).message}\n\n${cmd.help}`);
  }
}

/** The one positional argument a command takes, or a usage error. */
export function onePositional(cmd: Command, args: ParsedArgs, what: string): string {
  if (args.positionals.length !== 1) {
    throw new LatheError('UsageError', `lathe ${cmd.name} takes one ${what}, got ${args.positionals.length}\n\n${cmd.help}`);
  }
  return args.positionals[0]!;
}
