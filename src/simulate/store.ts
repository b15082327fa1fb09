/**
 * The simulation's local S3: the in-memory object store of `core/storage/object-store.ts` (bytes, S3's
 * conditional writes), so the drift checker, the baseline builders and the loop's Lambdas run unchanged.
 */
export { MemoryObjectStore as LocalObjectStore } from '../../core/storage/object-store';
