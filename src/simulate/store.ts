/**
 * The simulation's local S3: the in-memory object store of `lambdas/shared/object-store.ts` (bytes, S3's
 * conditional writes), so the drift checker, the baseline builders and the loop's Lambdas run unchanged.
 */
export { MemoryObjectStore as LocalObjectStore } from '../../lambdas/shared/object-store';
