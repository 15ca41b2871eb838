import type { OptionSpec } from '../../passes/pass.ts';
import { DEFAULT_PIPELINE } from '../../passes/index.ts';
import { passRegistry } from '../../passes/registry.ts';
import { loadPassModules } from '../plugins.ts';
import type { Command } from './command.ts';

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export const passes: Command = {
  name: 'passes',
  summary: 'list the passes, their options, and the default pipeline',
  help: `usage: lathe passes [--load-pass FILE]... [--json]

Lists every pass a pipeline can name (built in, and those of --load-pass modules) with its
summary and its options: type, default, choices. Options are written in pipeline text as
pass{name=value name=value}.

options:
  --load-pass FILE   also list the passes this .ts/.js module exports (repeatable)
  --json             print the same facts as JSON
  -h, --help         this help`,
  options: {
    'load-pass': { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  async run(args) {
    const registry = passRegistry();
    await loadPassModules((args.values['load-pass'] as string[] | undefined) ?? [], registry);
    const all = registry.all();
    const optionsOf = (p: (typeof all)[number]) => Object.entries(p.options as Record<string, OptionSpec>);
    if (args.values.json) {
      const facts = {
        default: DEFAULT_PIPELINE,
        passes: all.map((p) => ({
          name: p.name,
          summary: p.summary,
          origin: registry.originOf(p.name),
          options: optionsOf(p).map(([k, s]) => ({ name: kebab(k), type: s.type, default: s.default, choices: s.choices, summary: s.summary })),
        })),
      };
      console.log(JSON.stringify(facts, null, 2));
      return 0;
    }
    const lines: string[] = [];
    const w = Math.max(0, ...all.map((p) => p.name.length));
    for (const p of all) {
      const origin = registry.originOf(p.name);
      lines.push(`${p.name.padEnd(w)}  ${p.summary}${origin && origin !== 'built-in' ? `  (from ${origin})` : ''}`);
      for (const [k, s] of optionsOf(p)) {
        const type = s.choices ? s.choices.join('|') : s.type;
        const dflt = s.type === 'string' ? JSON.stringify(s.default) : String(s.default);
        lines.push(`    ${kebab(k)}: ${type} = ${dflt}  ${s.summary}`);
      }
    }
    if (all.length === 0) lines.push('(no passes registered)');
    lines.push('', `default pipeline: ${DEFAULT_PIPELINE || '(empty)'}`);
    console.log(lines.join('\n'));
    return 0;
  },
};
