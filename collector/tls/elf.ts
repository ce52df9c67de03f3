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
      // Cheap rejection first: most binaries do not even mention the names.
      const wanted = names.filter((n) => strtab.includes(`${n}\0`, 0, 'latin1'));
      if (wanted.length === 0) continue;
      const want = new Map(wanted.map((n) => [n, Buffer.from(`${n}\0`, 'latin1')]));
      const syms = readAt(fd, sym.offset, sym.size);
      for (let o = 0; o + 24 <= syms.length; o += 24) {
        if ((syms[o + 4] & 0xf) !== STT_FUNC || syms.readUInt16LE(o + 6) === SHN_UNDEF) continue;
        const at = syms.readUInt32LE(o);
        for (const [n, b] of want) {
          if (at + b.length <= strtab.length && strtab.compare(b, 0, b.length, at, at + b.length) === 0) {
            found.add(n);
            want.delete(n);
          }
        }
        if (want.size === 0) break;
      }
    }
  } catch {
    // Not an ELF file we can read: defines nothing.
  } finally {
    closeSync(fd);
  }
  return found;
}
