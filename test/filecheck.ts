// A small FileCheck (after LLVM's) for golden tests: check lines describe what a printed output
// must contain, in order, so a test states the lines that matter and ignores the rest.
//
//   // CHECK:       text found at or after the end of the previous match
//   // CHECK-NEXT:  found on the line right after the previous match's line
//   // CHECK-SAME:  found on the same line as the previous match, after it
//   // CHECK-EMPTY: the next line is empty
//   // CHECK-NOT:   absent between the previous match and the next positive match (or the end)
//   // CHECK-DAG:   consecutive DAG lines match in any order (not overlapping), all after the
//                   previous match; the next check continues after the last of them
//   // CHECK-LABEL: splits the output first: the checks after a label only look between it and
//                   the next label, so one failure does not derail the checks of other blocks
//
// Inside a pattern, `{{regex}}` is a regular expression, `[[NAME:regex]]` captures what it
// matches and `[[NAME]]` must then match the same text (value names a pass generates vary, but
// their uses must agree). Runs of spaces match any run of spaces and tabs; everything else is
// literal. Matches never cross a line end.

export type CheckKind = 'CHECK' | 'CHECK-NEXT' | 'CHECK-SAME' | 'CHECK-EMPTY' | 'CHECK-NOT' | 'CHECK-DAG' | 'CHECK-LABEL';

export interface CheckLine {
  kind: CheckKind;
  /** The pattern as written (trimmed). */
  pattern: string;
  /** 1-based line in the file the check was read from (for messages). */
  line: number;
}

const KINDS: readonly CheckKind[] = ['CHECK', 'CHECK-NEXT', 'CHECK-SAME', 'CHECK-EMPTY', 'CHECK-NOT', 'CHECK-DAG', 'CHECK-LABEL'];

/** Raised for a malformed check line (a typo such as `CHECK-NXT:` must not pass silently). */
export class CheckSyntaxError extends Error {}

/**
 * The `// CHECK…:` lines of a text. `firstLine` is the file line of text's first line.
 * Lines that mention CHECK but are not well-formed checks are errors, not ignored.
 */
export function parseChecks(text: string, firstLine = 1): CheckLine[] {
  const out: CheckLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = firstLine + i;
    const m = /^\s*\/\/\s*(CHECK[A-Z-]*)(\s*):(.*)$/.exec(raw);
    if (!m) {
      if (/^\s*\/\/\s*CHECK/.test(raw)) throw new CheckSyntaxError(`line ${line}: a CHECK line needs a ':' (${raw.trim()})`);
      return;
    }
    const kind = m[1] as CheckKind;
    if (!KINDS.includes(kind)) throw new CheckSyntaxError(`line ${line}: unknown check '${m[1]}' (known: ${KINDS.join(', ')})`);
    if (m[2]) throw new CheckSyntaxError(`line ${line}: no space allowed before ':' in '${m[1]}${m[2]}:'`);
    const pattern = m[3]!.trim();
    if (kind === 'CHECK-EMPTY' && pattern) throw new CheckSyntaxError(`line ${line}: CHECK-EMPTY takes no pattern`);
    if (kind !== 'CHECK-EMPTY' && !pattern) throw new CheckSyntaxError(`line ${line}: ${kind} has an empty pattern`);
    out.push({ kind, pattern, line });
  });
  return out;
}

export type CheckResult = { ok: true } | { ok: false; message: string };

interface Match {
  start: number;
  end: number;
  captures: Map<string, string>;
}

/** Checks `output` against `checks`; on failure the message names the check and where it looked. */
export function fileCheck(output: string, checks: readonly CheckLine[], source = 'check'): CheckResult {
  try {
    new Checker(output, source).run(checks);
    return { ok: true };
  } catch (e) {
    if (e instanceof CheckFailure) return { ok: false, message: e.message };
    throw e;
  }
}

class CheckFailure extends Error {}

class Checker {
  private readonly vars = new Map<string, string>();
  /** Offsets where each output line starts. */
  private readonly lineStarts: number[] = [0];

  constructor(private readonly out: string, private readonly source: string) {
    for (let i = 0; i < out.length; i++) if (out[i] === '\n') this.lineStarts.push(i + 1);
  }

  run(checks: readonly CheckLine[]): void {
    // Labels first: each must be found after the previous one; they cut the output into blocks.
    const blocks: { from: number; checks: CheckLine[] }[] = [{ from: 0, checks: [] }];
    const labelStarts: number[] = [];
    let pos = 0;
    for (const c of checks) {
      if (c.kind !== 'CHECK-LABEL') {
        blocks[blocks.length - 1]!.checks.push(c);
        continue;
      }
      const m = this.find(c, pos, this.out.length);
      if (!m) this.fail(c, pos, 'not found');
      for (const [k, v] of m.captures) this.vars.set(k, v);
      labelStarts.push(m.start);
      blocks.push({ from: m.end, checks: [] });
      pos = m.end;
    }
    // Then each block's checks, bounded by the next label (CHECK-NEXT right after a label means
    // the line after the label's line).
    blocks.forEach((b, i) => this.runBlock(b.checks, b.from, labelStarts[i] ?? this.out.length));
  }

  /** Runs positive and negative checks within [from, to). */
  private runBlock(checks: readonly CheckLine[], from: number, to: number): void {
    let pos = from;
    let pendingNot: CheckLine[] = [];
    let dag: CheckLine[] = [];
    // A DAG group ends at the next check of another kind (or the block's end).
    const flushDag = () => {
      if (!dag.length) return;
      const taken: Match[] = [];
      for (const c of dag) {
        let at = pos;
        let m: Match | undefined;
        for (;;) {
          m = this.find(c, at, to);
          const clash = m && taken.find((t) => m!.start < t.end && t.start < m!.end);
          if (!m || !clash) break;
          at = clash.end;
        }
        if (!m) this.fail(c, pos, 'not found (CHECK-DAG: anywhere after the previous match)');
        taken.push(m);
        for (const [k, v] of m.captures) this.vars.set(k, v);
      }
      this.checkNots(pendingNot, pos, Math.min(...taken.map((t) => t.start)));
      pendingNot = [];
      pos = Math.max(...taken.map((t) => t.end));
      dag = [];
    };
    for (const c of checks) {
      if (c.kind === 'CHECK-DAG') {
        dag.push(c);
        continue;
      }
      flushDag();
      if (c.kind === 'CHECK-NOT') {
        pendingNot.push(c);
        continue;
      }
      const prevLine = this.lineOf(pos);
      let m: Match | undefined;
      if (c.kind === 'CHECK-EMPTY') {
        const next = this.lineStarts[prevLine + 1];
        const ok = next !== undefined && next < to && this.out[next] === '\n';
        if (!ok) this.fail(c, pos, 'the next line is not empty');
        m = { start: next!, end: next!, captures: new Map() };
      } else {
        m = this.find(c, pos, to);
        if (!m) this.fail(c, pos, 'not found');
        const line = this.lineOf(m.start);
        if (c.kind === 'CHECK-NEXT' && line !== prevLine + 1) {
          this.fail(c, pos, line === prevLine ? 'found on the same line, not the next one' : `found on output line ${line + 1}, not on the next line (${prevLine + 2})`, m.start);
        }
        if (c.kind === 'CHECK-SAME' && line !== prevLine) {
          this.fail(c, pos, `found on output line ${line + 1}, not on the same line (${prevLine + 1})`, m.start);
        }
      }
      this.checkNots(pendingNot, pos, m.start);
      pendingNot = [];
      for (const [k, v] of m.captures) this.vars.set(k, v);
      pos = m.end;
    }
    flushDag();
    this.checkNots(pendingNot, pos, to);
  }

  private checkNots(nots: readonly CheckLine[], from: number, to: number): void {
    for (const c of nots) {
      const m = this.find(c, from, to);
      if (m) this.fail(c, from, `found (but must not be) on output line ${this.lineOf(m.start) + 1}`, m.start);
    }
  }

  /** The first match of the check's pattern starting in [from, to) and ending by `to`. */
  private find(c: CheckLine, from: number, to: number): Match | undefined {
    const { re, names } = this.compile(c);
    re.lastIndex = from;
    const m = re.exec(this.out);
    if (!m || m.index + m[0].length > to) return undefined;
    const captures = new Map<string, string>();
    names.forEach((name, i) => {
      if (name) captures.set(name, m[i + 1]!);
    });
    return { start: m.index, end: m.index + m[0].length, captures };
  }

  /** Pattern → regex; `names[i]` is the variable bound by capture group i+1 (or ''). */
  private compile(c: CheckLine): { re: RegExp; names: string[] } {
    const names: string[] = [];
    let src = '';
    const p = c.pattern;
    let i = 0;
    while (i < p.length) {
      if (p.startsWith('{{', i)) {
        const close = p.indexOf('}}', i + 2);
        if (close < 0) throw new CheckSyntaxError(`${this.source}:${c.line}: '{{' without '}}'`);
        src += `(?:${this.subRegex(p.slice(i + 2, close), c, names)})`;
        i = close + 2;
      } else if (p.startsWith('[[', i)) {
        const close = closingBrackets(p, i + 2);
        if (close < 0) throw new CheckSyntaxError(`${this.source}:${c.line}: '[[' without ']]'`);
        const body = p.slice(i + 2, close);
        const def = /^([A-Za-z_][A-Za-z0-9_]*):(.*)$/s.exec(body);
        if (def) {
          src += `(${this.subRegex(def[2]!, c, names)})`;
          names.push(def[1]!);
        } else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(body)) {
          const group = names.indexOf(body);
          if (group >= 0) src += `\\${group + 1}`;
          else if (this.vars.has(body)) src += escape(this.vars.get(body)!);
          else this.fail(c, 0, `uses [[${body}]] before any check defines it`);
        } else {
          throw new CheckSyntaxError(`${this.source}:${c.line}: bad variable '[[${body}]]' (want [[NAME]] or [[NAME:regex]])`);
        }
        i = close + 2;
      } else {
        let j = i;
        while (j < p.length && !p.startsWith('{{', j) && !p.startsWith('[[', j)) j++;
        src += escape(p.slice(i, j)).replace(/[ \t]+/g, '[ \\t]+');
        i = j;
      }
    }
    try {
      return { re: new RegExp(src, 'g'), names };
    } catch (e) {
      throw new CheckSyntaxError(`${this.source}:${c.line}: bad regex in '${p}': ${(e as Error).message}`);
    }
  }

  /**
   * A user regex, checked alone, with its own groups made non-capturing in count terms: we
   * count them so the group numbers of [[NAME:…]] stay right.
   */
  private subRegex(re: string, c: CheckLine, names: string[]): string {
    try {
      new RegExp(re);
    } catch (e) {
      throw new CheckSyntaxError(`${this.source}:${c.line}: bad regex {{${re}}}: ${(e as Error).message}`);
    }
    // Each capturing group inside shifts the numbering; record it as anonymous.
    const groups = new RegExp(`${re}|`).exec('')!.length - 1;
    for (let g = 0; g < groups; g++) names.push('');
    return re;
  }

  private lineOf(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private fail(c: CheckLine, searchedFrom: number, why: string, at?: number): never {
    const line = this.lineOf(at ?? searchedFrom);
    const text = this.out.slice(this.lineStarts[line], this.lineStarts[line + 1] ?? this.out.length).replace(/\n$/, '');
    const vars = [...this.vars].map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
    throw new CheckFailure(
      `${this.source}:${c.line}: ${c.kind}: ${c.pattern}\n  ${why}` +
        `\n  ${at === undefined ? 'searched from' : 'at'} output line ${line + 1}: ${text}` +
        (vars ? `\n  variables: ${vars}` : ''),
    );
  }
}

/** The `]]` closing a `[[` whose body starts at `from`; brackets of a regex inside nest. */
function closingBrackets(p: string, from: number): number {
  let depth = 0;
  for (let j = from; j < p.length; j++) {
    const ch = p[j];
    if (ch === '\\') j++;
    else if (ch === '[') depth++;
    else if (ch === ']') {
      if (depth === 0) return p[j + 1] === ']' ? j : -1;
      depth--;
    }
  }
  return -1;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The output with numbered lines, for failure messages. */
export function numbered(output: string): string {
  const lines = output.replace(/\n$/, '').split('\n');
  const w = String(lines.length).length;
  return lines.map((l, i) => `${String(i + 1).padStart(w)} | ${l}`).join('\n');
}
