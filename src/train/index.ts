/** The public API of src/train: proxy and final training of architectures. */
export * from './recipe.js';
export * from './tensor-data.js';
export * from './evaluate.js';
export * from './trainer.js';
export * from './run.js';
export * from './bn-calibration.js';
