/** Docker's multi-container verbs: act on each, report each failure as one line, exit 1 at the end. */
export async function forEachContainer(names: string[], act: (name: string) => Promise<void>): Promise<void> {
  for (const name of names) {
    try {
      await act(name);
    } catch (err) {
      process.stderr.write(`hull: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  }
}
