/** Plain-text output for people: aligned tables and labelled fields. */

/** Rows of cells as aligned columns; the first row is the header. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
    .concat("\n");
}

/** `label  value` lines under a title. */
export function fields(title: string, entries: Array<[string, string]>): string {
  const width = Math.max(...entries.map(([label]) => label.length));
  return `${title}\n${entries.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join("\n")}\n`;
}

export const list = (items: readonly string[]): string => (items.length === 0 ? "none" : items.join(", "));
