// wiretap_store: the per-row hot path of the table store's text interning
// (engine/store/text-entries.ts TextBuilder). JS encodes a chunk of rows to UTF-8 (one join, one
// utf8Write); this interns each row's bytes into the batch dictionary, whose arrays all stay
// JS-owned typed arrays (snapshots keep reading them in place, budget accounting is unchanged).
// The JS interner was ~35% of the store's CPU per row (a hash and a compare of every byte through
// DataView reads); here it is a word-at-a-time hash and memcmp.
#include <napi.h>

#include "seal.h"

#include <cstdint>
#include <cstring>

namespace {

// One napi_get_typedarray_info per array (its data pointer already includes the byte offset):
// Napi::TypedArray's IsTypedArray + As + ArrayBuffer() + Data() made four N-API calls per array,
// ~50 per intern() call, and intern() runs once per 256-row chunk per dictionary column.
template <typename T>
T* Data(napi_env env, napi_value v, napi_typedarray_type want, size_t& length, const char* what) {
  napi_typedarray_type type;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok || type != want) {
    throw Napi::TypeError::New(env, std::string(what) + " must be a typed array of the expected element type");
  }
  return static_cast<T*>(data);
}

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t Mix(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// wyhash-style: two independent lanes of 8 bytes per step (the 64×64→128 multiplies overlap
// instead of forming one chain: ~20% of intern() was that chain), the tail read as the last
// bytes again, overlapping (a variable-length memcpy per row was another ~10%). Only this file
// hashes a native dictionary (JS rehash reuses the stored hashes), so it need not match the JS hash.
uint32_t Hash(const uint8_t* p, size_t n) {
  const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull, k2 = 0x8ebc6af09c88c6e3ull, k3 = 0x589965cc75374cc3ull;
  uint64_t a = n ^ k0, b = k3;
  if (n >= 16) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      a = Mix(a ^ Load64(p + i), k1);
      b = Mix(b ^ Load64(p + i + 8), k2);
    }
    if (i < n) {
      a = Mix(a ^ Load64(p + n - 16), k2);
      b = Mix(b ^ Load64(p + n - 8), k1);
    }
  } else if (n >= 8) {
    a ^= Load64(p);
    b ^= Load64(p + n - 8);
  } else if (n >= 4) {
    a ^= Load32(p);
    b ^= Load32(p + n - 4);
  } else if (n > 0) {
    a ^= (static_cast<uint64_t>(p[0]) << 16) | (static_cast<uint64_t>(p[n >> 1]) << 8) | p[n - 1];
  }
  const uint64_t h = Mix(a ^ k1, b ^ k2);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

/**
 * intern(src, srcEnds, chars, n, nulls, row0, idx, utf8, ends, entryChars, table, hashes, state)
 * Row k (0 ≤ k < n) is src[srcEnds[k-1] (0 for k = 0), srcEnds[k]), chars[k] UTF-16 units long;
 * its entry id goes to idx[row0 + k] (0 without an entry when nulls[row0 + k] = 1). New entries
 * are appended to utf8/ends/entryChars with hashes[id]; table is open addressing over id + 1.
 * state = [count, used] in and out. The caller has reserved room for n more entries and their
 * bytes, and table.length ≥ 2 × (count + n) (a power of two).
 */
Napi::Value Intern(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 13) throw Napi::TypeError::New(env, "intern: 13 arguments expected");
  size_t srcLen, srcEndsLen, charsLen, idxLen, utf8Len, endsLen, entryCharsLen, tableLen, hashesLen, stateLen, nullsLen = 0;
  const uint8_t* src = Data<uint8_t>(env, info[0], napi_uint8_array, srcLen, "src");
  const uint32_t* srcEnds = Data<uint32_t>(env, info[1], napi_uint32_array, srcEndsLen, "srcEnds");
  const uint32_t* chars = Data<uint32_t>(env, info[2], napi_uint32_array, charsLen, "chars");
  const uint32_t n = info[3].As<Napi::Number>().Uint32Value();
  const uint8_t* nulls = info[4].IsNull() ? nullptr : Data<uint8_t>(env, info[4], napi_uint8_array, nullsLen, "nulls");
  const uint32_t row0 = info[5].As<Napi::Number>().Uint32Value();
  uint32_t* idx = Data<uint32_t>(env, info[6], napi_uint32_array, idxLen, "idx");
  uint8_t* utf8 = Data<uint8_t>(env, info[7], napi_uint8_array, utf8Len, "utf8");
  uint32_t* ends = Data<uint32_t>(env, info[8], napi_uint32_array, endsLen, "ends");
  uint32_t* entryChars = Data<uint32_t>(env, info[9], napi_uint32_array, entryCharsLen, "entryChars");
  int32_t* table = Data<int32_t>(env, info[10], napi_int32_array, tableLen, "table");
  uint32_t* hashes = Data<uint32_t>(env, info[11], napi_uint32_array, hashesLen, "hashes");
  uint32_t* state = Data<uint32_t>(env, info[12], napi_uint32_array, stateLen, "state");
  if (stateLen < 2) throw Napi::RangeError::New(env, "intern: state holds [count, used]");
  uint32_t count = state[0];
  uint32_t used = state[1];
  // Every bound the loop relies on, checked once: bad input is an error, never a write past an array.
  if (n > srcEndsLen || n > charsLen || static_cast<size_t>(row0) + n > idxLen ||
      (nulls && static_cast<size_t>(row0) + n > nullsLen) || (n > 0 && srcEnds[n - 1] > srcLen) ||
      static_cast<size_t>(count) + n > endsLen || static_cast<size_t>(count) + n > entryCharsLen ||
      static_cast<size_t>(count) + n > hashesLen || tableLen < 2 * (static_cast<size_t>(count) + n) ||
      (tableLen & (tableLen - 1)) != 0 || used > utf8Len || (n > 0 && used + srcEnds[n - 1] > utf8Len) ||
      (count > 0 && ends[count - 1] != used)) {
    throw Napi::RangeError::New(env, "intern: arrays too small for the chunk (reserve first)");
  }
  const uint32_t mask = static_cast<uint32_t>(tableLen) - 1;
  // Rows go in blocks: first every row's hash, prefetching its first table slot; then the probes,
  // prefetching the entry a few rows ahead (its hash and end), so the cache misses of the table
  // (~25% of intern()) and of hashes[id] (~10%) overlap instead of stalling one row at a time.
  constexpr uint32_t kBlock = 64, kAhead = 4;
  uint32_t blockHash[kBlock];
  uint32_t blockStart[kBlock + 1];
  uint32_t s = 0;
  for (uint32_t k0 = 0; k0 < n; k0 += kBlock) {
    const uint32_t m = n - k0 < kBlock ? n - k0 : kBlock;
    blockStart[0] = s;
    for (uint32_t j = 0; j < m; j++) {
      const uint32_t e = srcEnds[k0 + j];
      const uint32_t from = blockStart[j];
      if (e < from) throw Napi::RangeError::New(env, "intern: srcEnds must not decrease");
      blockStart[j + 1] = e;
      if (nulls && nulls[row0 + k0 + j] == 1) continue;
      const uint32_t h = Hash(src + from, e - from);
      blockHash[j] = h;
      __builtin_prefetch(&table[h & mask]);
    }
    for (uint32_t j = 0; j < m; j++) {
      if (j + kAhead < m && !(nulls && nulls[row0 + k0 + j + kAhead] == 1)) {
        const int32_t t = table[blockHash[j + kAhead] & mask];
        if (t > 0) {
          __builtin_prefetch(&hashes[t - 1]);
          __builtin_prefetch(&ends[t - 1]);
        }
      }
      const uint32_t row = row0 + k0 + j;
      if (nulls && nulls[row] == 1) {
        idx[row] = 0;
        continue;
      }
      const uint8_t* b = src + blockStart[j];
      const uint32_t len = blockStart[j + 1] - blockStart[j];
      const uint32_t h = blockHash[j];
      uint32_t slot = h & mask;
      int64_t found = -1;
      for (;;) {
        const int32_t t = table[slot];
        if (t == 0) break;
        const uint32_t id = static_cast<uint32_t>(t - 1);
        if (hashes[id] == h) {
          const uint32_t fs = id == 0 ? 0 : ends[id - 1];
          if (ends[id] - fs == len && std::memcmp(utf8 + fs, b, len) == 0) {
            found = id;
            break;
          }
        }
        slot = (slot + 1) & mask;
      }
      if (found < 0) {
        std::memcpy(utf8 + used, b, len);
        used += len;
        ends[count] = used;
        entryChars[count] = chars[k0 + j];
        hashes[count] = h;
        table[slot] = static_cast<int32_t>(count + 1);
        found = count++;
      }
      idx[row] = static_cast<uint32_t>(found);
    }
    s = blockStart[m];
  }
  state[0] = count;
  state[1] = used;
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("intern", Napi::Function::New(env, Intern, "intern"));
  wiretap_store::RegisterSeal(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(wiretap_store, Init)
