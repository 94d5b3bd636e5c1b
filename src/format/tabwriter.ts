/**
 * Go's text/tabwriter (elastic tabstops), as Docker's tables use it: cells end with a tab, the
 * tab-ended cells of adjacent lines form a column as wide as its widest cell plus the padding (at
 * least minwidth), and the text after a line's last tab is not part of any column.
 */

export interface TabwriterOptions {
  minwidth: number;
  padding: number;
}

/** Docker's table writer: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const DOCKER_TABLE: TabwriterOptions = { minwidth: 10, padding: 3 };

const width = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Aligns the tab-separated cells of `text`. */
export function tabwrite(text: string, options: TabwriterOptions = DOCKER_TABLE): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const cells = lines[i]!;
      cells.forEach((c, j) => {
        out.push(c);
        if (j < widths.length) out.push(' '.repeat(Math.max(0, widths[j]! - width(c))));
      });
      if (i + 1 < lines.length) out.push('\n');
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let row = line0; row < line1; row++) {
      if (column >= lines[row]!.length - 1) continue;
      // A line with a cell in this column begins a block of them: print what comes before it.
      writeLines(line0, row);
      line0 = row;
      let w = options.minwidth;
      for (; row < line1; row++) {
        const cells = lines[row]!;
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column]!) + options.padding);
      }
      widths.push(w);
      format(line0, row);
      widths.pop();
      line0 = row;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('');
}
