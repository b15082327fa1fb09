/**
 * model.tar.gz as SageMaker writes it (gzip tar, the model dir's files at the archive root) and its extraction,
 * both done by the Python shim's `tarfile` so no tar package is needed.
 */
import { runContainerCommand } from './python';

/** Pack `dir`'s content into the gzip tar `archive` (entries such as `xgboost-model`, `code/inference.py`). */
export async function packModelDirectory(dir: string, archive: string): Promise<void> {
  await runContainerCommand(['pack', '--dir', dir, '--archive', archive], `packing ${dir} into ${archive}`);
}

/** Extract `archive` into `dir`; absolute paths, `..` and links in the archive are refused. */
export async function extractModelArchive(archive: string, dir: string): Promise<void> {
  await runContainerCommand(['extract', '--archive', archive, '--dir', dir], `extracting ${archive}`);
}
