// Counting records in a record set without decoding them: v2 record batches carry their record
// count in the batch header (offset 57); legacy message sets (magic 0/1) hold one message per
// entry. A record set cut short by the capture counts the batches whose header is there.

/** Records in a record set, and whether the set was complete. */
export function countRecords(b: Buffer | null | undefined): { records: number; batches: number; complete: boolean } {
  let records = 0;
  let batches = 0;
  if (b === null) return { records, batches, complete: true };
  if (b === undefined) return { records, batches, complete: false }; // cut off before the field
  let o = 0;
  while (o + 17 <= b.length) {
    const len = b.readInt32BE(o + 8);
    if (len < 0) break;
    const magic = b[o + 16]!;
    if (magic === 2) {
      if (o + 61 > b.length) break;
      const n = b.readInt32BE(o + 57);
      if (n > 0) records += n;
    } else {
      records += 1;
    }
    batches++;
    o += 12 + len;
  }
  return { records, batches, complete: o === b.length };
}
