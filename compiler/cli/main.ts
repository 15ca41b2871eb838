// `lathe`: the command-line driver. Each subcommand lives in its own file; this one dispatches,
// prints help, and turns errors into one clear message and a non-zero exit status:
// 1 for bad input (a LatheError), 2 for a usage error, 70 for a bug in lathe itself.
import { LatheError } from '../../ir/errors.ts';
import type { Command } from './command.ts';
import { parseCommandArgs } from './command.ts';
import { check } from './check.ts';
import { compile } from './compile.ts';
import { conformance } from './conformance.ts';
import { dump } from './dump.ts';
import { info } from './info.ts';
import { opt } from './opt.ts';
import { passes } from './passes.ts';
import { run } from './run.ts';
import { verify } from './verify.ts';

const commands: Command[] = [dump, verify, info, opt, passes, run, conformance, check, compile];

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `usage: lathe COMMAND [options]

lathe compiles ONNX models through a typed IR and optimization passes into GPU kernels.

commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'lathe COMMAND --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name ? 0 : 2;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    console.error(`lathe: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.help);
    return 0;
  }
  try {
    return await cmd.run(parseCommandArgs(cmd, rest));
  } catch (e) {
    if (e instanceof LatheError) {
      console.error(`lathe ${cmd.name}: ${e.kind}: ${e.message}`);
      return e.kind === 'UsageError' ? 2 : 1;
    }
    console.error(`lathe ${cmd.name}: internal error (a bug in lathe; please report it with the input):`);
    console.error(e instanceof Error ? e.stack : e);
    return 70;
  }
}

