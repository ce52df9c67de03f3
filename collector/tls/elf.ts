// Which functions an ELF file defines in its dynamic symbol table: enough to tell a binary
// with OpenSSL linked in (node exports SSL_* and BIO_* for addons) from one that imports
// them from libssl or does no TLS at all. 64-bit little-endian ELF only; anything else —
// or a file that is not ELF, truncated, unreadable — answers "none".
import { closeSync, openSync, readSync } from 'node:fs';

const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const SHN_UNDEF = 0;
/** Larger symbol tables than this are not read (node's: ~1.8 MB symbols, ~5 MB names). */
const MAX_TABLE = 64 << 20;

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, pos + got);
    if (n === 0) throw new Error('short read');
    got += n;
  }
  return b;
}

/** The subset of `names` that `path` defines as functions in .dynsym. */
export function definedFunctions(path: string, names: readonly string[]): Set<string> {
  const found = new Set<string>();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return found;
  }
  try {
    const eh = readAt(fd, 0, 64);
    // \x7fELF, ELFCLASS64, ELFDATA2LSB
    if (eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2 || eh[5] !== 1) return found;
    const shoff = Number(eh.readBigUInt64LE(0x28));
    const shentsize = eh.readUInt16LE(0x3a);
    const shnum = eh.readUInt16LE(0x3c);
    if (shoff === 0 || shentsize < 64 || shnum === 0) return found;
    const sh = readAt(fd, shoff, shentsize * shnum);
    const sec = (i: number) => {
      const o = i * shentsize;
      return {
        type: sh.readUInt32LE(o + 4),
        offset: Number(sh.readBigUInt64LE(o + 0x18)),
        size: Number(sh.readBigUInt64LE(o + 0x20)),
        link: sh.readUInt32LE(o + 0x28),
      };
    };
    for (let i = 0; i < shnum; i++) {
      const sym = sec(i);
      if (sym.type !== SHT_DYNSYM || sym.link >= shnum) continue;
      const str = sec(sym.link);
      if (sym.size > MAX_TABLE || str.size > MAX_TABLE) continue;
      const strtab = readAt(fd, str.offset, str.size);
      // Offsets at which the string table reads exactly NAME\0 (a symbol's name may start
      // inside a longer string: linkers share tails), so each symbol costs one map lookup.
      const at = new Map<number, string>();
      for (const n of names) {
        const b = Buffer.from(`${n}\0`, 'latin1');
        for (let o = strtab.indexOf(b); o >= 0; o = strtab.indexOf(b, o + 1)) at.set(o, n);
      }
      if (at.size === 0) continue; // most binaries do not even mention the names
      const syms = readAt(fd, sym.offset, sym.size);
      for (let o = 0; o + 24 <= syms.length; o += 24) {
        const n = at.get(syms.readUInt32LE(o));
        if (n === undefined || (syms[o + 4] & 0xf) !== STT_FUNC || syms.readUInt16LE(o + 6) === SHN_UNDEF) continue;
        found.add(n);
      }
    }
  } catch {
    // Not an ELF file we can read: defines nothing.
  } finally {
    closeSync(fd);
  }
  return found;
}
