/** The capture-hour and lake-partition layouts of object keys (UTC). */
import { captureHourFolder, lakeHourPartition, utcDate } from '../../../core/storage/layout';

test('capture hours and lake partitions of one instant, in UTC whatever the offset it was written with', () => {
  const t = new Date('2026-03-01T00:59:59.999+01:00'); // 2026-02-28T23:59:59.999Z
  expect(utcDate(t)).toBe('2026-02-28');
  expect(captureHourFolder(t)).toBe('2026/02/28/23/');
  expect(lakeHourPartition(t)).toBe('dt=2026-02-28/hour=23/');
});
