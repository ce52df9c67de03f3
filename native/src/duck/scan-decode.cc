#include "scan-decode.h"

#include <algorithm>
#include <cstring>

namespace wiretap_duck {
namespace {

// A frame that does not record its size: stream it into a growing buffer.
bool UnzStream(ZSTD_DCtx* dctx, const Packed& p, std::vector<uint8_t>& out, std::string& error, const char* what) {
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  out.resize(std::max<size_t>(p.zlen * 4, 1 << 16));
  ZSTD_inBuffer in = {p.z, p.zlen, 0};
  ZSTD_outBuffer o = {out.data(), out.size(), 0};
  for (;;) {
    size_t r = ZSTD_decompressStream(dctx, &o, &in);
    if (ZSTD_isError(r)) {
      error = std::string("zstd: ") + ZSTD_getErrorName(r) + " (" + what + ")";
      return false;
    }
    if (r == 0) break;
    if (in.pos == in.size && o.pos < o.size) {
      error = std::string("zstd: truncated frame (") + what + ")";
      return false;
    }
    if (o.pos == o.size) {
      if (out.size() > (1ull << 34)) {
        error = std::string("zstd: frame too large (") + what + ")";
        return false;
      }
      out.resize(out.size() * 2);
      o.dst = out.data();
      o.size = out.size();
    }
  }
  out.resize(o.pos);
  return true;
}

// Decompresses one frame holding at least `need` bytes.
bool Unz(ZSTD_DCtx* dctx, const Packed& p, size_t need, std::vector<uint8_t>& out, std::string& error, const char* what) {
  unsigned long long size = ZSTD_getFrameContentSize(p.z, p.zlen);
  if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
    if (!UnzStream(dctx, p, out, error, what)) return false;
    if (out.size() >= need) return true;
    error = std::string("zstd frame shorter than the batch (") + what + ")";
    return false;
  }
  if (size == ZSTD_CONTENTSIZE_ERROR || size < need || size > (1ull << 34)) {
    error = std::string("bad zstd frame (") + what + ")";
    return false;
  }
  out.resize(static_cast<size_t>(size));
  size_t n = ZSTD_decompressDCtx(dctx, out.data(), out.size(), p.z, p.zlen);
  if (ZSTD_isError(n) || n != size) {
    error = std::string("zstd: ") + (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame") + " (" + what + ")";
    return false;
  }
  return true;
}

inline uint32_t Get(const uint8_t* p, int width, size_t i) {
  switch (width) {
    case 1: return p[i];
    case 2: { uint16_t v; std::memcpy(&v, p + 2 * i, 2); return v; }
    default: { uint32_t v; std::memcpy(&v, p + 4 * i, 4); return v; }
  }
}

bool ValidWidth(const Packed& p) { return p.width == 1 || p.width == 2 || p.width == 4; }

// out[i] = base + packed[i] for every row, one loop per width (the switch hoisted out: the loops
// vectorise).
template <typename U, typename O, typename B>
void AddBase(const uint8_t* p, size_t rows, B base, O* out) {
  for (size_t i = 0; i < rows; i++) {
    U u;
    std::memcpy(&u, p + sizeof(U) * i, sizeof(U));
    out[i] = static_cast<O>(base + u);
  }
}

template <typename O, typename B>
void AddBase(const uint8_t* p, int width, size_t rows, B base, O* out) {
  switch (width) {
    case 1: return AddBase<uint8_t>(p, rows, base, out);
    case 2: return AddBase<uint16_t>(p, rows, base, out);
    default: return AddBase<uint32_t>(p, rows, base, out);
  }
}

// UTF-16 unit lengths → byte offsets into well-formed UTF-8 (what the seal wrote when `chars`).
bool CharOffsets(const std::vector<uint8_t>& utf8, const std::vector<uint8_t>& lengths, int width, size_t entries,
                 std::vector<uint32_t>& offsets) {
  const uint8_t* s = utf8.data();
  size_t size = utf8.size();
  size_t at = 0;
  offsets[0] = 0;
  for (size_t k = 0; k < entries; k++) {
    uint32_t units = Get(lengths.data(), width, k);
    while (units > 0) {
      if (at >= size) return false;
      uint8_t b = s[at];
      if (b < 0xE0) {
        at += b < 0x80 ? 1 : 2;
        units -= 1;
      } else if (b < 0xF0) {
        at += 3;
        units -= 1;
      } else {
        if (units < 2) return false;
        at += 4;
        units -= 2;
      }
    }
    if (at > size) return false;
    offsets[k + 1] = static_cast<uint32_t>(at);
  }
  return true;
}

}  // namespace

void UnpackI32(const uint8_t* packed, int width, size_t rows, double base, int32_t* out) {
  AddBase(packed, width, rows, static_cast<int64_t>(base), out);
}

namespace {
template <typename U>
void GatherBase(const uint8_t* p, int64_t base, const uint32_t* sel, size_t n, int32_t* out) {
  for (size_t i = 0; i < n; i++) {
    U u;
    std::memcpy(&u, p + sizeof(U) * sel[i], sizeof(U));
    out[i] = static_cast<int32_t>(base + u);
  }
}
}  // namespace

void GatherI32(const uint8_t* packed, int width, double base, const uint32_t* sel, size_t n, int32_t* out) {
  int64_t b = static_cast<int64_t>(base);
  switch (width) {
    case 1: return GatherBase<uint8_t>(packed, b, sel, n, out);
    case 2: return GatherBase<uint16_t>(packed, b, sel, n, out);
    default: return GatherBase<uint32_t>(packed, b, sel, n, out);
  }
}

bool DecodeColumn(ZSTD_DCtx* dctx, const EncodedColumn& e, size_t rows, DecodedBuffers& buf, DecodedView& out,
                  std::string& error, bool keepPacked) {
  out = DecodedView();
  if (e.nulls.present()) {
    if (!Unz(dctx, e.nulls, rows, buf.nulls, error, "nulls")) return false;
    out.nulls = buf.nulls.data();
  }
  std::vector<uint8_t>& packed = buf.scratch;  // reused: no allocation per column per batch
  switch (e.kind) {
    case EncodedColumn::kI32: {
      if (!ValidWidth(e.ints) || !Unz(dctx, e.ints, rows * e.ints.width, packed, error, "ints")) return false;
      if (keepPacked) {
        out.packed = packed.data();
        out.packedWidth = e.ints.width;
        out.base = e.base;
        return true;
      }
      buf.values.resize(rows * 4);
      auto* v = reinterpret_cast<int32_t*>(buf.values.data());
      AddBase(packed.data(), e.ints.width, rows, static_cast<int64_t>(e.base), v);
      out.values = v;
      return true;
    }
    case EncodedColumn::kF64: {
      buf.values.resize(rows * 8);
      auto* v = reinterpret_cast<double*>(buf.values.data());
      if (e.mode == EncodedColumn::kRaw) {
        if (!Unz(dctx, e.raw, rows * 8, packed, error, "raw")) return false;
        std::memcpy(v, packed.data(), rows * 8);
      } else if (e.mode == EncodedColumn::kOffset) {
        if (!ValidWidth(e.ints) || !Unz(dctx, e.ints, rows * e.ints.width, packed, error, "ints")) return false;
        AddBase(packed.data(), e.ints.width, rows, e.base, v);
      } else {
        // Zigzag deltas of integral values (exact below 2^53, as in JS).
        // Packed at 1, 2 or 4 bytes (the seal picks the fewest that hold the largest).
        if (!ValidWidth(e.ints) || !Unz(dctx, e.ints, rows * e.ints.width, packed, error, "deltas")) return false;
        int64_t prev = static_cast<int64_t>(e.base);
        const uint8_t* p = packed.data();
        const int width = e.ints.width;
        for (size_t i = 0; i < rows; i++) {
          const uint32_t zz = Get(p, width, i);
          prev += (zz & 1) ? -static_cast<int64_t>((static_cast<uint64_t>(zz) + 1) >> 1) : static_cast<int64_t>(zz >> 1);
          v[i] = static_cast<double>(prev);
        }
      }
      out.values = v;
      return true;
    }
    case EncodedColumn::kBool:
      if (!Unz(dctx, e.raw, rows, buf.values, error, "bool")) return false;
      out.values = buf.values.data();
      return true;
    case EncodedColumn::kUpid:
    case EncodedColumn::kText:
      break;
  }
  if (e.idx.present()) {
    if (!ValidWidth(e.idx) || !Unz(dctx, e.idx, rows * e.idx.width, buf.idx, error, "ids")) return false;
    out.idx = buf.idx.data();
    out.idxWidth = e.idx.width;
  }
  if (e.kind == EncodedColumn::kUpid || e.idsOnly) return true;
  // Text: the dictionary as UTF-8 + entry offsets.
  if (!Unz(dctx, e.dictUtf8, 0, buf.utf8, error, "dictionary")) return false;
  buf.utf8.reserve(1);  // a non-null pointer even for an empty dictionary
  if (!ValidWidth(e.lengths) || !Unz(dctx, e.lengths, e.dictSize * e.lengths.width, packed, error, "lengths")) return false;
  buf.offsets.resize(e.dictSize + 1);
  if (e.chars) {
    if (!CharOffsets(buf.utf8, packed, e.lengths.width, e.dictSize, buf.offsets)) {
      error = "dictionary lengths do not match its text";
      return false;
    }
  } else {
    uint64_t at = 0;
    buf.offsets[0] = 0;
    for (size_t k = 0; k < e.dictSize; k++) {
      at += Get(packed.data(), e.lengths.width, k);
      if (at > buf.utf8.size()) {
        error = "dictionary lengths do not match its text";
        return false;
      }
      buf.offsets[k + 1] = static_cast<uint32_t>(at);
    }
  }
  out.utf8 = reinterpret_cast<const char*>(buf.utf8.data());
  out.offsets = buf.offsets.data();
  out.entries = e.dictSize;
  return true;
}

}  // namespace wiretap_duck
