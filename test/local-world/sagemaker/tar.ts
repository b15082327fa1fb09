/** Lists a .tar.gz's entries by reading the tar headers directly (independent of the code under test). */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export function listTarGz(file: string): { name: string; type: 'file' | 'dir' | 'other' }[] {
  const tar = gunzipSync(readFileSync(file));
  const entries: { name: string; type: 'file' | 'dir' | 'other' }[] = [];
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const text = (start: number, length: number) =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const prefix = text(345, 155);
    const name = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
    const size = parseInt(text(124, 12).trim() || '0', 8);
    const flag = text(156, 1);
    entries.push({ name, type: flag === '5' ? 'dir' : flag === '0' || flag === '' ? 'file' : 'other' });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}
