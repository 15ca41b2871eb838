// Small formatting helpers for benchmark tables.

export const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
export const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
export const ratio = (x: number) => `${x.toFixed(2)}×`;

/** A plain text table: the first row is the header; numbers right-aligned, text left-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const numeric = (s: string) => /^[-+]?[\d.,]+(×|%)?$/.test(s);
  const line = (r: readonly string[]) =>
    r.map((cell, c) => (numeric(cell) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
