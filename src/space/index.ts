/** The search space as data: one import for the rest of mnas. */
export * from './arch.js';
export * from './arch-error.js';
export * from './arch-string.js';
export * from './decisions.js';
export * from './presets.js';
export * from './resolve.js';
export * from './round-filters.js';
export * from './skeleton.js';
export * from './space.js';
export * from './tf-block-string.js';
export * from './timm-string.js';
