// wiretap_store, sealing: the per-value loops of engine/store/sealed-batch.ts (offset packing,
// zigzag time deltas, the integral test, a maximum) fused with zstd, so a sealed buffer is one
// native call. In JS these loops ran once per column per batch: too rarely to be optimized before
// the first few batches (~50-120 ns per value interpreted, ~3 optimized), and every packed buffer
// went through a second N-API call to compress. The output is the same sealed format (zstd frames
// of little-endian packed integers), decoded by JS and native/src/duck/scan-decode.cc alike.
#include "seal.h"

#include <zstd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace wiretap_store {
namespace {

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

// One compression context and scratch per thread (a worker loading the addon gets its own).
struct Sealer {
  std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx{ZSTD_createCCtx()};
  std::vector<uint8_t> packed;
  std::vector<uint8_t> z;
};
thread_local Sealer sealer;

struct Typed {
  napi_typedarray_type type;
  size_t length;
  void* data;
};

Typed TypedArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Typed t{};
  if (napi_get_typedarray_info(info.Env(), info[i], &t.type, &t.length, &t.data, nullptr, nullptr) != napi_ok) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a typed array");
  }
  return t;
}

const uint8_t* NullsArg(const Napi::CallbackInfo& info, size_t i, size_t rows) {
  if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  Typed t = TypedArg(info, i, "nulls");
  if (t.type != napi_uint8_array) throw Napi::TypeError::New(info.Env(), "nulls must be a Uint8Array");
  if (t.length < rows) throw Napi::RangeError::New(info.Env(), "nulls shorter than rows");
  return static_cast<const uint8_t*>(t.data);
}

size_t RowsArg(const Napi::CallbackInfo& info, size_t i, size_t length) {
  const double r = info[i].As<Napi::Number>().DoubleValue();
  if (!(r >= 0) || r > static_cast<double>(length) || r != std::floor(r)) {
    throw Napi::RangeError::New(info.Env(), "rows must be a whole number within the array");
  }
  return static_cast<size_t>(r);
}

int LevelArg(const Napi::CallbackInfo& info, size_t i) {
  const int level = info[i].As<Napi::Number>().Int32Value();
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) throw Napi::RangeError::New(info.Env(), "zstd level out of range");
  return level;
}

/** zstd of bytes[0, n) as a new, exactly sized Uint8Array (the memory budget counts what is held). */
Napi::Uint8Array Compress(Napi::Env env, const uint8_t* bytes, size_t n, int level) {
  Sealer& s = sealer;
  if (!s.cctx) throw Napi::Error::New(env, "zstd: no compression context");
  const size_t bound = ZSTD_compressBound(n);
  if (s.z.size() < bound) s.z.resize(bound);
  ZSTD_CCtx* c = s.cctx.get();
  ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  if (level == 1) {
    // Level 1 with a smaller hash table (2^12, fewer cache misses; level 1 takes 2^13 above 256 KB)
    // and 7-byte minimum matches: ~8% less zstd time over a batch's buffers at equal or smaller
    // output (26.24 vs 26.30 B/row on a dumped 64Ki-row batch; C bench, 40 rounds alternating).
    // zstd still shrinks both for small inputs.
    ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, 12);
    ZSTD_CCtx_setParameter(c, ZSTD_c_minMatch, 7);
  }
  const size_t r = ZSTD_compress2(c, s.z.data(), s.z.size(), bytes, n);
  if (ZSTD_isError(r)) throw Napi::Error::New(env, std::string("zstd: ") + ZSTD_getErrorName(r));
  Napi::Uint8Array out = Napi::Uint8Array::New(env, r);
  std::memcpy(out.Data(), s.z.data(), r);
  return out;
}

template <typename V, typename O>
void PackLoop(const V* v, size_t rows, double base, const uint8_t* nulls, O* out) {
  // The same value JS's typed-array store gives (values are within [base, base + 2^width) here;
  // NULL slots hold anything and pack as 0, i.e. the base).
  if (std::is_integral<V>::value && base == std::floor(base) && base >= -2147483648.0 && base < 4294967296.0) {
    // Integer values, integral base: modulo-2^32 arithmetic gives the same low bytes, without a
    // double round trip per value (the loops vectorise).
    const uint32_t b = static_cast<uint32_t>(static_cast<int64_t>(base));
    if (nulls) {
      for (size_t i = 0; i < rows; i++) out[i] = static_cast<O>((static_cast<uint32_t>(v[i]) - b) & -static_cast<uint32_t>(nulls[i] == 0));
    } else {
      for (size_t i = 0; i < rows; i++) out[i] = static_cast<O>(static_cast<uint32_t>(v[i]) - b);
    }
    return;
  }
  if (nulls) {
    for (size_t i = 0; i < rows; i++) out[i] = nulls[i] ? 0 : static_cast<O>(static_cast<int64_t>(v[i] - base));
  } else {
    for (size_t i = 0; i < rows; i++) out[i] = static_cast<O>(static_cast<int64_t>(v[i] - base));
  }
}

template <typename V>
void PackAs(const V* v, size_t rows, double base, int width, const uint8_t* nulls, uint8_t* out) {
  switch (width) {
    case 1: PackLoop(v, rows, base, nulls, out); break;
    case 2: PackLoop(v, rows, base, nulls, reinterpret_cast<uint16_t*>(out)); break;
    default: PackLoop(v, rows, base, nulls, reinterpret_cast<uint32_t*>(out)); break;
  }
}

/** packZstd(values, rows, base, width, nulls, level): zstd of (values[i] - base) at width bytes each. */
Napi::Value PackZstd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6) throw Napi::TypeError::New(env, "packZstd: 6 arguments expected");
  const Typed v = TypedArg(info, 0, "values");
  const size_t rows = RowsArg(info, 1, v.length);
  const double base = info[2].As<Napi::Number>().DoubleValue();
  const int width = info[3].As<Napi::Number>().Int32Value();
  if (width != 1 && width != 2 && width != 4) throw Napi::RangeError::New(env, "packZstd: width must be 1, 2 or 4");
  if (!std::isfinite(base)) throw Napi::RangeError::New(env, "packZstd: base must be finite");
  const uint8_t* nulls = NullsArg(info, 4, rows);
  const int level = LevelArg(info, 5);
  // Aligned storage (uint64_t) for the 2- and 4-byte stores.
  Sealer& s = sealer;
  if (s.packed.size() < rows * 4 + 8) s.packed.resize(rows * 4 + 8);
  uint8_t* out = s.packed.data();
  switch (v.type) {
    case napi_int32_array: PackAs(static_cast<const int32_t*>(v.data), rows, base, width, nulls, out); break;
    case napi_uint32_array: PackAs(static_cast<const uint32_t*>(v.data), rows, base, width, nulls, out); break;
    case napi_float64_array: PackAs(static_cast<const double*>(v.data), rows, base, width, nulls, out); break;
    default: throw Napi::TypeError::New(env, "packZstd: values must be an Int32Array, Uint32Array or Float64Array");
  }
  return Compress(env, out, rows * width, level);
}

/**
 * deltaZstd(values, rows, first, nulls, level, width): zstd of the zigzag deltas of values from
 * `first` (a NULL row repeats the previous value: delta 0, where its slot's value or the minimum
 * could widen every delta) packed at the fewest bytes
 * (1, 2 or 4) that hold the largest; the width is written to width[0]. null when a delta does not
 * fit 32 bits. Values must be integral (integralF64).
 */
Napi::Value DeltaZstd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6) throw Napi::TypeError::New(env, "deltaZstd: 6 arguments expected");
  const Typed v = TypedArg(info, 0, "values");
  if (v.type != napi_float64_array) throw Napi::TypeError::New(env, "deltaZstd: values must be a Float64Array");
  const size_t rows = RowsArg(info, 1, v.length);
  const double first = info[2].As<Napi::Number>().DoubleValue();
  const uint8_t* nulls = NullsArg(info, 3, rows);
  const int level = LevelArg(info, 4);
  const Typed w = TypedArg(info, 5, "width");
  if (w.type != napi_uint8_array || w.length < 1) throw Napi::TypeError::New(env, "deltaZstd: width must be a Uint8Array of 1");
  Sealer& s = sealer;
  if (s.packed.size() < rows * 4 + 8) s.packed.resize(rows * 4 + 8);
  uint32_t* zz = reinterpret_cast<uint32_t*>(s.packed.data());
  const double* x = static_cast<const double*>(v.data);
  double prev = first;
  uint32_t max = 0;
  for (size_t i = 0; i < rows; i++) {
    const double cur = nulls && nulls[i] ? prev : x[i];
    const double d = cur - prev;
    const double z = d >= 0 ? d * 2 : -d * 2 - 1;
    if (!(z <= 4294967295.0)) return env.Null();
    zz[i] = static_cast<uint32_t>(z);
    max = zz[i] > max ? zz[i] : max;
    prev = cur;
  }
  // Narrowed in place (each value moves to a lower or equal offset): times at 10k rows/s have
  // deltas of ~100 µs, 2 bytes where 4 compressed slower and larger (1.26 vs 1.46 B/row, ~6x faster).
  const int width = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
  if (width == 1) {
    for (size_t i = 0; i < rows; i++) s.packed[i] = static_cast<uint8_t>(zz[i]);
  } else if (width == 2) {
    uint16_t* o = reinterpret_cast<uint16_t*>(s.packed.data());
    for (size_t i = 0; i < rows; i++) o[i] = static_cast<uint16_t>(zz[i]);
  }
  static_cast<uint8_t*>(w.data)[0] = static_cast<uint8_t>(width);
  return Compress(env, s.packed.data(), rows * width, level);
}

/** integralF64(values, rows, nulls): every non-NULL value is an integer (Number.isInteger). */
Napi::Value IntegralF64(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) throw Napi::TypeError::New(env, "integralF64: 3 arguments expected");
  const Typed v = TypedArg(info, 0, "values");
  if (v.type != napi_float64_array) throw Napi::TypeError::New(env, "integralF64: values must be a Float64Array");
  const size_t rows = RowsArg(info, 1, v.length);
  const uint8_t* nulls = NullsArg(info, 2, rows);
  const double* x = static_cast<const double*>(v.data);
  // Below 2^52 in magnitude, a + 2^52 - 2^52 rounds a to an integer, so it is a iff a is one; at
  // or above it every finite double is an integer; NaN and ±Infinity are not (as Number.isInteger).
  // Branch-free per value (the loop vectorises), checked per block of 1024 to stop early.
  constexpr double kTwo52 = 4503599627370496.0;
  for (size_t i0 = 0; i0 < rows; i0 += 1024) {
    const size_t end = rows - i0 < 1024 ? rows : i0 + 1024;
    bool ok = true;
    for (size_t i = i0; i < end; i++) {
      const double a = std::fabs(x[i]);
      const bool integral = (a <= 1.7976931348623157e308) & ((a >= kTwo52) | ((a + kTwo52) - kTwo52 == a));
      ok &= integral | (nulls != nullptr && nulls[i] != 0);
    }
    if (!ok) return Napi::Boolean::New(env, false);
  }
  return Napi::Boolean::New(env, true);
}

/** maxU32(values, rows): the largest of values[0, rows) (0 for none). */
Napi::Value MaxU32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2) throw Napi::TypeError::New(env, "maxU32: 2 arguments expected");
  const Typed v = TypedArg(info, 0, "values");
  if (v.type != napi_uint32_array) throw Napi::TypeError::New(env, "maxU32: values must be a Uint32Array");
  const size_t rows = RowsArg(info, 1, v.length);
  const uint32_t* x = static_cast<const uint32_t*>(v.data);
  uint32_t m = 0;
  for (size_t i = 0; i < rows; i++) m = x[i] > m ? x[i] : m;
  return Napi::Number::New(env, m);
}

/** zstd(bytes, level): bytes compressed, exactly sized. */
Napi::Value Zstd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2) throw Napi::TypeError::New(env, "zstd: 2 arguments expected");
  const Typed b = TypedArg(info, 0, "bytes");
  if (b.type != napi_uint8_array) throw Napi::TypeError::New(env, "zstd: bytes must be a Uint8Array");
  return Compress(env, static_cast<const uint8_t*>(b.data), b.length, LevelArg(info, 1));
}

}  // namespace

void RegisterSeal(Napi::Env env, Napi::Object exports) {
  exports.Set("packZstd", Napi::Function::New(env, PackZstd, "packZstd"));
  exports.Set("deltaZstd", Napi::Function::New(env, DeltaZstd, "deltaZstd"));
  exports.Set("integralF64", Napi::Function::New(env, IntegralF64, "integralF64"));
  exports.Set("maxU32", Napi::Function::New(env, MaxU32, "maxU32"));
  exports.Set("zstd", Napi::Function::New(env, Zstd, "zstd"));
}

}  // namespace wiretap_store
