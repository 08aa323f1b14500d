/** The Ctrl-C handling of the benchmarks that train into a trained table (proxy-fidelity, models). */

/**
 * Runs `work` with a signal that SIGINT and SIGTERM abort. An interrupted run says where its
 * finished trainings are and how to go on, and exits 130.
 */
export async function runResumable(table: string, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await work(controller.signal);
  } catch (e) {
    if (!controller.signal.aborted) throw e;
    process.stderr.write(`interrupted: finished trainings are in ${table}; run the same command again to go on\n`);
    process.exitCode = 130;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
