import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { makeSyntheticRun } from '../runs/testing.js';
import { tempDir } from '../util/testing.js';
import { RunCatalog } from './run-catalog.js';

describe('RunCatalog.warmUp', () => {
  it('summarizes every run and opens the views of the most recently active ones', async () => {
    const root = tempDir('mnas-catalog-');
    await makeSyntheticRun(path.join(root, 'a'), 6, 1);
    await makeSyntheticRun(path.join(root, 'b'), 7, 2);
    await makeSyntheticRun(path.join(root, 'c'), 8, 3);
    const many = new RunCatalog([root]);
    try {
      const done = await many.warmUp(2);
      assert.deepEqual(done.summarized.sort(), ['a', 'b', 'c']);
      assert.deepEqual(done.opened, ['c', 'b']);
    } finally {
      many.close();
    }
    const few = new RunCatalog([root]);
    try {
      const done = await few.warmUp(4);
      assert.deepEqual(done.opened.sort(), ['a', 'b', 'c']);
      // summaries made from the open views agree with reading the run directories
      const fresh = new RunCatalog([root]);
      try {
        for (const id of ['a', 'b', 'c']) {
          const { elapsedSec: _a, etaSec: _b, ...fromView } = few.listing(id) as unknown as Record<string, unknown>;
          const { elapsedSec: _c, etaSec: _d, ...fromDir } = fresh.listing(id) as unknown as Record<string, unknown>;
          assert.deepEqual(fromView, fromDir, id);
        }
      } finally {
        fresh.close();
      }
    } finally {
      few.close();
    }
  });
});
