/**
 * A dataset's checksum: sha256 of what training reads (shape, classes, flip rule, the images and
 * labels of both sets, in order), not of the files, so the same data compressed or laid out
 * differently on another machine has the same checksum, and any changed image or label does not.
 */
import { createHash } from 'node:crypto';
import type { Dataset, TrainTestDatasets } from './dataset.js';

export function datasetChecksum(data: TrainTestDatasets): string {
  const hash = createHash('sha256');
  for (const part of [data.train, data.test]) {
    hash.update(JSON.stringify(shapeOf(part)));
    hash.update(part.images);
    hash.update(part.labels);
  }
  return hash.digest('hex');
}

function shapeOf(d: Dataset): object {
  return { count: d.count, height: d.height, width: d.width, channels: d.channels, classes: d.classes, flip: d.allowsHorizontalFlip };
}
