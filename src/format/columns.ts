/**
 * Aligns the columns of Docker's tables (`--format 'table …'`): a line's cells are separated by
 * tabs, and a cell is padded to the width of its column, which is the widest of that column's
 * cells over the consecutive lines that have the column, plus the padding (and at least the
 * minimum width). A line that lacks a column ends that column's block: the lines after it are
 * aligned on their own. The text after a line's last tab is not part of any column. Widths count
 * characters.
 */

export interface ColumnOptions {
  minWidth: number;
  padding: number;
}

/** The layout of Docker's tables: columns at least 10 wide, 3 spaces between them. */
export const DOCKER_TABLE_COLUMNS: ColumnOptions = { minWidth: 10, padding: 3 };

const charCount = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** `text` with the tab-separated cells of its lines padded into aligned columns. */
export function alignColumns(text: string, options: ColumnOptions = DOCKER_TABLE_COLUMNS): string {
  const rows = text.split('\n').map((line) => line.split('\t'));
  /** How many aligned cells a row has: those followed by a tab. */
  const aligned = (row: number): number => rows[row]!.length - 1;
  const widths: number[][] = rows.map(() => []);
  const deepest = Math.max(0, ...rows.map((_, i) => aligned(i)));
  for (let column = 0; column < deepest; column++) {
    // Each run of consecutive rows that have this column is one block, as wide as its widest cell.
    for (let start = 0; start < rows.length;) {
      if (aligned(start) <= column) {
        start++;
        continue;
      }
      let end = start;
      let width = options.minWidth;
      for (; end < rows.length && aligned(end) > column; end++) width = Math.max(width, charCount(rows[end]![column]!) + options.padding);
      for (let row = start; row < end; row++) widths[row]![column] = width;
      start = end;
    }
  }
  return rows
    .map((cells, row) =>
      cells.map((cell, column) => (column < cells.length - 1 ? cell + ' '.repeat(Math.max(0, widths[row]![column]! - charCount(cell))) : cell)).join(''),
    )
    .join('\n');
}
