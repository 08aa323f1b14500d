/**
 * The test set of a user dataset that comes without one: every 10th sample of each class, in
 * the source's order (file names sorted, or array index). Deterministic and stratified, so it
 * needs no seed and does not change when files are added to another class.
 */
export const TEST_HOLDOUT_EVERY = 10;

/** Indices of the held-out test samples and of the rest, each in ascending order. */
export function holdOutTestSamples(labels: ArrayLike<number>): { train: number[]; test: number[] } {
  const seen = new Map<number, number>();
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const k = (seen.get(labels[i]!) ?? 0) + 1;
    seen.set(labels[i]!, k);
    (k % TEST_HOLDOUT_EVERY === 0 ? test : train).push(i);
  }
  return { train, test };
}
