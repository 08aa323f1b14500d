/** The public API of src/data, for the trainer and the search: import from 'src/data/index.js'. */
export * from './dataset.js';
export { DataFileError } from './data-file-error.js';
export { readDataFile, isGzip, type ReadDataFileOptions } from './read-data-file.js';
export * from './idx.js';
export { findMnistFile, loadMnistFormat, type MnistFormatSpec } from './mnist-format.js';
export * from './fashion-mnist.js';
export * from './mnist.js';
export * from './cifar10.js';
export * from './synthetic.js';
export * from './load.js';
export * from './split.js';
export * from './batches.js';
export * from './augmentation.js';
export * from './prepare.js';
export { readDatasetCache, readDatasetCacheHeader, writeDatasetCache, type DatasetCacheHeader } from './dataset-cache.js';
export { listImageFolder, decodeImageFolder, IMAGE_EXTENSIONS, type ImageShape, type SkippedFile } from './image-folder.js';
export { parseNpy, encodeNpy, type NpyArray } from './npy.js';
export { readArrayDataset } from './array-dataset.js';
