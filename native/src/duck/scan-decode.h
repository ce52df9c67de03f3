// Decoding of sealed batch columns (engine/store/sealed-batch.ts, a frozen format) on DuckDB's
// threads: zstd frames, integers packed as 1/2/4-byte offsets from a base, zigzag time deltas,
// raw float64, string dictionaries (UTF-8 blob + lengths in UTF-16 units or bytes) + ids.
#pragma once
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wiretap_duck {

// One zstd frame holding `count` little-endian unsigned integers of `width` bytes
// (width 1 for byte arrays, 8 for raw float64).
struct Packed {
  const uint8_t* z = nullptr;
  size_t zlen = 0;
  int width = 0;
  bool present() const { return z != nullptr; }
};

struct EncodedColumn {
  enum Kind : uint8_t { kI32, kF64, kBool, kText, kUpid } kind = kI32;
  enum Mode : uint8_t { kOffset, kDelta, kRaw } mode = kOffset;  // f64/time
  double base = 0;
  Packed ints;   // i32; f64 offset/delta
  Packed raw;    // f64 raw (width 8); bool data (width 1)
  Packed nulls;  // width 1, optional
  // text: dictionary of dictSize entries; upid/text: ids (text ids optional: row i is entry i)
  size_t dictSize = 0;
  Packed dictUtf8;
  Packed lengths;
  bool chars = false;  // lengths in UTF-16 units (else UTF-8 bytes)
  Packed idx;
  bool idsOnly = false;  // text: ids and NULLs only (a code column reads no strings)
};

// Where a decoded column lives (owned by the scanning thread until it claims another batch).
struct DecodedBuffers {
  std::vector<uint8_t> values, nulls, idx, utf8, scratch;
  std::vector<uint32_t> offsets;
};

// The decoded form, as the vector fill reads it.
struct DecodedView {
  const void* values = nullptr;  // int32 (i32), double (f64), uint8 (bool)
  const uint8_t* nulls = nullptr;
  const void* idx = nullptr;
  int idxWidth = 0;
  const char* utf8 = nullptr;  // text
  const uint32_t* offsets = nullptr;
  size_t entries = 0;
  // i32 asked to stay packed: value i = base + packed[i] (packedWidth bytes each); values null.
  const uint8_t* packed = nullptr;
  int packedWidth = 0;
  double base = 0;
};

// Decodes `rows` rows of a column; on malformed input returns false with `error` set. With
// `keepPacked`, an i32 column is only decompressed (see DecodedView::packed): a row filter can
// read the narrow offsets and only the rows it keeps get unpacked (UnpackI32/GatherI32).
bool DecodeColumn(ZSTD_DCtx* dctx, const EncodedColumn& e, size_t rows, DecodedBuffers& buf, DecodedView& out,
                  std::string& error, bool keepPacked = false);

// out[i] = base + packed[i], i < rows.
void UnpackI32(const uint8_t* packed, int width, size_t rows, double base, int32_t* out);
// out[i] = base + packed[sel[i]], i < n.
void GatherI32(const uint8_t* packed, int width, double base, const uint32_t* sel, size_t n, int32_t* out);

}  // namespace wiretap_duck
