// DataRow encoding from DuckDB vectors. Every formatter here ports its JS counterpart in
// server/pg/text-format.ts / binary-format.ts (named in its comment) and must stay in step with
// it: server/pg/row-batches.test.ts compares the two byte for byte.
#include "pg-rows.h"

#include <charconv>
#include <cstdio>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bridge.h"

namespace wiretap_duck {
namespace {

constexpr int64_t kInt64Max = INT64_MAX;
constexpr int32_t kInt32Max = INT32_MAX;
constexpr int64_t kMicrosPerDay = 86400000000LL;
// Unix epoch → PostgreSQL epoch (2000-01-01), as in binary-format.ts.
constexpr int64_t kPgEpochMicros = 946684800000000LL;
constexpr int64_t kPgEpochDays = 10957;

using u128 = unsigned __int128;

bool Supported(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN:
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_DECIMAL:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_ENUM:
    case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_DATE:
    case DUCKDB_TYPE_TIME:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
    case DUCKDB_TYPE_INTERVAL:
    case DUCKDB_TYPE_UUID:
      return true;
    default:
      return false;
  }
}

// A growable byte buffer (kept by the encoder across chunks, so steady state never allocates).
class Out {
 public:
  ~Out() { std::free(data_); }
  void Clear() { len_ = 0; }
  size_t size() const { return len_; }
  const char* data() const { return data_; }
  char* Reserve(size_t n) {
    if (len_ + n > cap_) Grow(len_ + n);
    return data_ + len_;
  }
  void Advance(size_t n) { len_ += n; }
  void Byte(char c) { *Reserve(1) = c, len_++; }
  void Bytes(const void* p, size_t n) {
    std::memcpy(Reserve(n), p, n);
    len_ += n;
  }
  void Str(const char* s) { Bytes(s, std::strlen(s)); }
  void Repeat(char c, size_t n) {
    std::memset(Reserve(n), c, n);
    len_ += n;
  }
  void Be16(uint16_t v) {
    char* p = Reserve(2);
    p[0] = char(v >> 8), p[1] = char(v);
    len_ += 2;
  }
  void Be32(uint32_t v) {
    char* p = Reserve(4);
    PutBe32(p, v);
    len_ += 4;
  }
  void Be64(uint64_t v) {
    Be32(uint32_t(v >> 32));
    Be32(uint32_t(v));
  }
  // Writes an integer in decimal.
  template <typename T>
  void Int(T v) {
    char* p = Reserve(24);
    len_ += std::to_chars(p, p + 24, v).ptr - p;
  }
  void PatchBe32(size_t at, uint32_t v) { PutBe32(data_ + at, v); }
  void Truncate(size_t len) { len_ = len; }

 private:
  static void PutBe32(char* p, uint32_t v) {
    p[0] = char(v >> 24), p[1] = char(v >> 16), p[2] = char(v >> 8), p[3] = char(v);
  }
  void Grow(size_t need) {
    size_t cap = cap_ ? cap_ : 64 * 1024;
    while (cap < need) cap *= 2;
    char* p = static_cast<char*>(std::realloc(data_, cap));
    if (p == nullptr) throw std::bad_alloc();
    data_ = p;
    cap_ = cap;
  }
  char* data_ = nullptr;
  size_t len_ = 0;
  size_t cap_ = 0;
};

void Pad2(Out& o, int64_t n) {
  if (n < 10) o.Byte('0');
  o.Int(n);
}

// u128 in decimal (HUGEINT, UHUGEINT, DECIMAL digits).
void U128(Out& o, u128 v) {
  char tmp[40];
  int i = 40;
  do {
    tmp[--i] = char('0' + int(v % 10));
    v /= 10;
  } while (v != 0);
  o.Bytes(tmp + i, 40 - i);
}

// ---- floats (text-format.ts formatFloat4/formatFloat8, shortestToPg) -------------------------

// Lays out significant digits d.ddd × 10^exp like shortestToPg: fixed notation when
// -4 <= exp < max_fixed_exp, else d.ddde±XX; trailing zeros dropped.
void ShortestToPg(Out& o, bool neg, const char* digits, int nd, int exp, int max_fixed_exp) {
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  if (neg) o.Byte('-');
  if (exp < -4 || exp >= max_fixed_exp) {
    o.Byte(digits[0]);
    if (nd > 1) {
      o.Byte('.');
      o.Bytes(digits + 1, nd - 1);
    }
    int e = exp < 0 ? -exp : exp;
    o.Byte('e');
    o.Byte(exp < 0 ? '-' : '+');
    if (e < 10) o.Byte('0');
    o.Int(e);
    return;
  }
  if (exp < 0) {
    o.Bytes("0.", 2);
    o.Repeat('0', -exp - 1);
    o.Bytes(digits, nd);
    return;
  }
  if (nd <= exp + 1) {
    o.Bytes(digits, nd);
    o.Repeat('0', exp + 1 - nd);
    return;
  }
  o.Bytes(digits, exp + 1);
  o.Byte('.');
  o.Bytes(digits + exp + 1, nd - exp - 1);
}

// Splits to_chars' scientific output ("d.ddde+XX") into digits and exponent.
int SplitScientific(const char* s, const char* end, char* digits, int* exp) {
  int nd = 0;
  const char* p = s;
  for (; p < end && *p != 'e'; p++) {
    if (*p != '.') digits[nd++] = *p;
  }
  std::from_chars(p + 1 + (p[1] == '+'), end, *exp);
  return nd;
}

bool FloatSpecial(Out& o, double v) {
  if (std::isnan(v)) return o.Str("NaN"), true;
  if (std::isinf(v)) return o.Str(v > 0 ? "Infinity" : "-Infinity"), true;
  if (v == 0) return o.Str(std::signbit(v) ? "-0" : "0"), true;
  return false;
}

// Shortest round-trip digits; ties go to the closer candidate, as in Number.prototype.toExponential().
void Float8Text(Out& o, double v) {
  if (FloatSpecial(o, v)) return;
  char tmp[40], digits[40];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, std::fabs(v), std::chars_format::scientific);
  int exp;
  int nd = SplitScientific(tmp, r.ptr, digits, &exp);
  ShortestToPg(o, v < 0, digits, nd, exp, 15);
}

// formatFloat4 exactly: the fewest digits p+1 (p = 0..8) whose toExponential(p) rounding (half
// away from zero) of the value reads back as the same float through a double.
void Float4Text(Out& o, float v) {
  if (FloatSpecial(o, v)) return;
  double d = std::fabs(double(v));
  // the exact decimal expansion (a float's has at most ~112 significant digits)
  char exact[200], all[200];
  auto r = std::to_chars(exact, exact + sizeof exact, d, std::chars_format::scientific, 150);
  int exp0;
  SplitScientific(exact, r.ptr, all, &exp0);
  char digits[12];
  int nd = 9, exp = exp0;
  for (int p = 0; p <= 8; p++) {
    char cand[12];
    int e = exp0;
    std::memcpy(cand, all, p + 1);
    if (all[p + 1] >= '5') {
      int i = p;
      while (i >= 0 && cand[i] == '9') cand[i--] = '0';
      if (i >= 0) {
        cand[i]++;
      } else {
        cand[0] = '1';
        e++;
      }
    }
    char text[32];
    int n = 0;
    text[n++] = cand[0];
    text[n++] = '.';
    std::memcpy(text + n, cand + 1, p);
    n += p;
    n += std::snprintf(text + n, sizeof text - n, "e%d", e);
    if (float(std::strtod(text, nullptr)) == float(d) || p == 8) {
      std::memcpy(digits, cand, p + 1);
      nd = p + 1, exp = e;
      break;
    }
  }
  ShortestToPg(o, v < 0, digits, nd, exp, 6);
}

// ---- date / time (text-format.ts civilFromDays, formatYmd, formatHms, …) --------------------

struct Ymd {
  char text[24];
  int len;
  bool bc;
};

Ymd FormatYmd(int64_t days) {
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = era * 400 + yoe + (m <= 2 ? 1 : 0);
  Ymd out;
  out.bc = y <= 0;
  int64_t year = out.bc ? 1 - y : y;
  char ys[24];
  int yl = int(std::to_chars(ys, ys + sizeof ys, year).ptr - ys);
  char* p = out.text;
  for (int i = yl; i < 4; i++) *p++ = '0';
  std::memcpy(p, ys, yl);
  p += yl;
  *p++ = '-';
  *p++ = char('0' + m / 10), *p++ = char('0' + m % 10);
  *p++ = '-';
  *p++ = char('0' + d / 10), *p++ = char('0' + d % 10);
  out.len = int(p - out.text);
  return out;
}

// HH:MM:SS[.ffffff] with trailing zeros trimmed (hours may exceed 24 for intervals).
void Hms(Out& o, uint64_t hours, int minutes, int seconds, int micros) {
  if (hours < 10) o.Byte('0');
  o.Int(hours);
  o.Byte(':');
  Pad2(o, minutes);
  o.Byte(':');
  Pad2(o, seconds);
  if (micros != 0) {
    char f[6];
    for (int i = 5; i >= 0; i--) f[i] = char('0' + micros % 10), micros /= 10;
    int n = 6;
    while (f[n - 1] == '0') n--;
    o.Byte('.');
    o.Bytes(f, n);
  }
}

// formatUtcOffset (planner/session/time-zone.ts): +05:30, -04, -04:56:02.
void UtcOffsetText(Out& o, int32_t seconds) {
  int32_t a = seconds < 0 ? -seconds : seconds;
  o.Byte(seconds < 0 ? '-' : '+');
  Pad2(o, a / 3600);
  int mm = a / 60 % 60, ss = a % 60;
  if (mm != 0 || ss != 0) o.Byte(':'), Pad2(o, mm);
  if (ss != 0) o.Byte(':'), Pad2(o, ss);
}

// formatTimestamp / formatTimestamptz (text-format.ts); timestamptz at a UTC offset the caller
// knows holds for every value it passes (the session zone's over the rows' span). The day of the
// previous row is cached like the JS does.
class TimestampText {
 public:
  void Write(Out& o, int64_t micros, bool with_zone, int32_t offset = 0) {
    if (micros >= kInt64Max) return o.Str("infinity");
    if (micros <= -kInt64Max) return o.Str("-infinity");
    micros += int64_t(offset) * 1000000;  // the caller keeps |micros| far from the int64 edges
    int64_t days = micros / kMicrosPerDay;
    int64_t rem = micros % kMicrosPerDay;
    if (rem < 0) rem += kMicrosPerDay, days -= 1;
    if (days != last_days_ || !have_) {
      last_days_ = days, have_ = true;
      ymd_ = FormatYmd(days);
    }
    o.Bytes(ymd_.text, ymd_.len);
    o.Byte(' ');
    int64_t secs = rem / 1000000;
    Hms(o, uint64_t(secs / 3600), int(secs / 60 % 60), int(secs % 60), int(rem % 1000000));
    if (with_zone) {
      if (offset == 0) o.Bytes("+00", 3);
      else UtcOffsetText(o, offset);
    }
    if (ymd_.bc) o.Bytes(" BC", 3);
  }

 private:
  bool have_ = false;
  int64_t last_days_ = 0;
  Ymd ymd_{};
};

void DateText(Out& o, int32_t days) {
  if (days >= kInt32Max) return o.Str("infinity");
  if (days <= -kInt32Max) return o.Str("-infinity");  // DuckDB: -(2^31 - 1)
  Ymd y = FormatYmd(days);
  o.Bytes(y.text, y.len);
  if (y.bc) o.Bytes(" BC", 3);
}

void TimeText(Out& o, int64_t micros) {
  int64_t secs = micros / 1000000;
  Hms(o, uint64_t(secs / 3600), int(secs / 60 % 60), int(secs % 60), int(micros % 1000000));
}

// formatInterval (IntervalStyle postgres, PG's EncodeInterval).
void IntervalText(Out& o, const duckdb_interval& v) {
  bool first = true, before = false, zero = true;
  auto add = [&](int64_t value, const char* unit) {
    if (value == 0) return;
    if (!first) o.Byte(' ');
    first = false;
    if (before && value > 0) o.Byte('+');
    o.Int(value);
    o.Byte(' ');
    o.Str(unit);
    if (value != 1) o.Byte('s');
    before = value < 0;
    zero = false;
  };
  add(v.months / 12, "year");
  add(v.months % 12, "mon");
  add(v.days, "day");
  int64_t t = v.micros;
  if (zero || t != 0) {
    if (!first) o.Byte(' ');
    bool neg = t < 0;
    uint64_t a = neg ? uint64_t(0) - uint64_t(t) : uint64_t(t);
    if (neg) o.Byte('-');
    else if (before) o.Byte('+');
    uint64_t secs = a / 1000000;
    Hms(o, secs / 3600, int(secs / 60 % 60), int(secs % 60), int(a % 1000000));
  }
}

// ---- numeric (binary-format.ts encodeNumeric, for the digit strings written here) -----------

// text: -?\d+(\.\d+)? as this file writes it.
void NumericBinary(Out& o, const char* s, size_t n) {
  bool neg = n > 0 && s[0] == '-';
  size_t i = neg ? 1 : 0;
  const char* dot = static_cast<const char*>(std::memchr(s, '.', n));
  size_t int_end = dot ? size_t(dot - s) : n;
  const char* frac = dot ? dot + 1 : s + n;
  size_t frac_len = dot ? n - int_end - 1 : 0;
  while (i < int_end && s[i] == '0') i++;
  const char* ip = s + i;
  size_t int_len = int_end - i;
  int16_t groups[64];
  int ng = 0;
  int int_groups = int((int_len + 3) / 4);
  // integer digits, grouped by 4 from the decimal point leftwards
  size_t first = int_len - (int_groups - 1) * 4;
  for (int g = 0; g < int_groups; g++) {
    size_t from = g == 0 ? 0 : first + (g - 1) * 4;
    size_t len = g == 0 ? first : 4;
    int v = 0;
    for (size_t k = 0; k < len; k++) v = v * 10 + (ip[from + k] - '0');
    groups[ng++] = int16_t(v);
  }
  for (size_t k = 0; k < frac_len; k += 4) {
    int v = 0;
    for (size_t j = 0; j < 4; j++) v = v * 10 + (k + j < frac_len ? frac[k + j] - '0' : 0);
    groups[ng++] = int16_t(v);
  }
  int weight = int_groups - 1;
  int start = 0;
  while (start < ng && groups[start] == 0) start++, weight--;
  int end = ng;
  while (end > start && groups[end - 1] == 0) end--;
  int nd = end - start;
  if (nd == 0) weight = 0;
  o.Be16(uint16_t(nd));
  o.Be16(uint16_t(int16_t(weight)));
  o.Be16(neg && nd > 0 ? 0x4000 : 0);
  o.Be16(uint16_t(frac_len));
  for (int g = start; g < end; g++) o.Be16(uint16_t(groups[g]));
}

// stringFromDecimal (@duckdb/node-api): whole part, '.', fraction zero-padded to the scale.
void DecimalText(Out& o, bool neg, u128 abs, int scale) {
  if (neg) o.Byte('-');
  if (scale == 0) return U128(o, abs);
  u128 factor = 1;
  for (int i = 0; i < scale; i++) factor *= 10;
  U128(o, abs / factor);
  o.Byte('.');
  u128 frac = abs % factor;
  char tmp[40];
  int i = 40;
  for (int k = 0; k < scale; k++) tmp[--i] = char('0' + int(frac % 10)), frac /= 10;
  o.Bytes(tmp + i, 40 - i);
}

// ---- the encoder ----------------------------------------------------------------------------

struct Column {
  duckdb_type type = DUCKDB_TYPE_INVALID;
  bool binary = false;
  int scale = 0;                                 // DECIMAL
  duckdb_type internal = DUCKDB_TYPE_INVALID;    // DECIMAL / ENUM storage
  duckdb_logical_type logical = nullptr;         // ENUM: for its dictionary
  std::vector<std::string> dict;                 // ENUM entries fetched so far
  std::vector<bool> have;
};

class PgRowEncoder : public Napi::ObjectWrap<PgRowEncoder> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PgRowEncoder", {InstanceMethod("encode", &PgRowEncoder::Encode),
                                             InstanceMethod("timestamptzSpan", &PgRowEncoder::TimestamptzSpan)});
  }

  explicit PgRowEncoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PgRowEncoder>(info) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(info.Env(), "PgRowEncoder: expected a Uint8Array of format codes");
    }
    auto formats = info[0].As<Napi::Uint8Array>();
    columns_.resize(formats.ElementLength());
    for (size_t i = 0; i < columns_.size(); i++) {
      if (formats[i] > 1) throw Napi::RangeError::New(info.Env(), "PgRowEncoder: format codes are 0 or 1");
      columns_[i].binary = formats[i] == 1;
    }
  }

  ~PgRowEncoder() override {
    for (auto& c : columns_) {
      if (c.logical) duckdb_destroy_logical_type(&c.logical);
    }
  }

 private:
  // The chunk of info[0] and rows [info[1], info[2]) of it, checked.
  duckdb_data_chunk RowsArg(const Napi::CallbackInfo& info, size_t* first, size_t* rows) {
    Napi::Env env = info.Env();
    duckdb_data_chunk chunk = DataChunkFromJs(env, info[0]);
    size_t ncols = duckdb_data_chunk_get_column_count(chunk);
    if (ncols != columns_.size()) {
      throw Napi::RangeError::New(env, "PgRowEncoder: chunk has " + std::to_string(ncols) + " columns, encoder " +
                                           std::to_string(columns_.size()));
    }
    size_t size = duckdb_data_chunk_get_size(chunk);
    double from = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
    double to = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : -1;
    if (!(from >= 0 && from <= to && to <= double(size))) {
      throw Napi::RangeError::New(env, "PgRowEncoder: rows [start, end) must lie within the chunk's " + std::to_string(size));
    }
    *first = size_t(from), *rows = size_t(to);
    return chunk;
  }

  // Seconds since the epoch (floored) of the earliest and latest finite timestamptz among rows
  // [start, end) of the columns written as text: [min, max], or null when there is none. Values
  // beyond ±8.64e12 s (where Intl's offsets end) → [-Infinity, Infinity]: the caller then does
  // not pass an offset.
  Napi::Value TimestamptzSpan(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t first, rows;
    duckdb_data_chunk chunk = RowsArg(info, &first, &rows);
    bool any = false;
    int64_t lo = 0, hi = 0;
    for (size_t c = 0; c < columns_.size(); c++) {
      if (columns_[c].binary) continue;
      duckdb_vector vector = duckdb_data_chunk_get_vector(chunk, c);
      Bind(env, columns_[c], vector, c);
      if (columns_[c].type != DUCKDB_TYPE_TIMESTAMP_TZ) continue;
      auto* data = static_cast<const int64_t*>(duckdb_vector_get_data(vector));
      uint64_t* validity = duckdb_vector_get_validity(vector);
      for (size_t r = first; r < rows; r++) {
        if (validity && !(validity[r >> 6] & (uint64_t(1) << (r & 63)))) continue;
        int64_t v = data[r];
        if (v >= kInt64Max || v <= -kInt64Max) continue;  // ±infinity print without an offset
        int64_t s = v / 1000000 - (v % 1000000 < 0 ? 1 : 0);
        if (!any || s < lo) lo = s;
        if (!any || s > hi) hi = s;
        any = true;
      }
    }
    if (!any) return env.Null();
    const int64_t kMaxSeconds = 8640000000000LL - 86400;
    auto span = Napi::Array::New(env, 2);
    span.Set(uint32_t(0), lo < -kMaxSeconds ? -INFINITY : double(lo));
    span.Set(uint32_t(1), hi > kMaxSeconds ? INFINITY : double(hi));
    return span;
  }

  // encode(chunk external, start, end[, offset]) → Buffer of the DataRows of rows [start, end);
  // offset: seconds east of UTC at which timestamptz text is written (the session zone's, which
  // the caller checked holds over timestamptzSpan), else UTC.
  Napi::Value Encode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t first, rows;
    duckdb_data_chunk chunk = RowsArg(info, &first, &rows);
    size_t ncols = columns_.size();
    tz_offset_ = 0;
    if (info.Length() > 3 && !info[3].IsUndefined()) {
      double offset = info[3].IsNumber() ? info[3].As<Napi::Number>().DoubleValue() : NAN;
      if (!(offset >= -86400 && offset <= 86400) || offset != std::floor(offset)) {
        throw Napi::RangeError::New(env, "PgRowEncoder: the UTC offset must be whole seconds within a day");
      }
      tz_offset_ = int32_t(offset);
    }
    std::vector<duckdb_vector> vectors(ncols);
    std::vector<const void*> data(ncols);
    std::vector<uint64_t*> validity(ncols);
    for (size_t c = 0; c < ncols; c++) {
      vectors[c] = duckdb_data_chunk_get_vector(chunk, c);
      Bind(env, columns_[c], vectors[c], c);
      data[c] = duckdb_vector_get_data(vectors[c]);
      validity[c] = duckdb_vector_get_validity(vectors[c]);
    }
    out_.Clear();
    for (size_t r = first; r < rows; r++) {
      size_t start = out_.size();
      out_.Byte('D');
      out_.Be32(0);
      out_.Be16(uint16_t(ncols));
      for (size_t c = 0; c < ncols; c++) {
        if (validity[c] && !(validity[c][r >> 6] & (uint64_t(1) << (r & 63)))) {
          out_.Be32(0xffffffffu);
          continue;
        }
        Column& col = columns_[c];
        if (col.binary) {
          Binary(env, col, data[c], r);
        } else {
          size_t at = out_.size();
          out_.Be32(0);
          Text(col, data[c], r);
          out_.PatchBe32(at, uint32_t(out_.size() - at - 4));
        }
      }
      out_.PatchBe32(start + 1, uint32_t(out_.size() - start - 1));
    }
    return Napi::Buffer<char>::Copy(env, out_.data(), out_.size());
  }

  // Checks the vector's type and, on the first chunk, learns what the column needs.
  void Bind(Napi::Env env, Column& col, duckdb_vector vector, size_t index) {
    duckdb_logical_type lt = duckdb_vector_get_column_type(vector);
    duckdb_type t = duckdb_get_type_id(lt);
    if (col.type == DUCKDB_TYPE_INVALID) {
      if (!Supported(t)) {
        duckdb_destroy_logical_type(&lt);
        throw Napi::TypeError::New(env, "PgRowEncoder: column " + std::to_string(index) + " has DuckDB type " +
                                            std::to_string(int(t)) + ", which it does not encode");
      }
      col.type = t;
      if (t == DUCKDB_TYPE_DECIMAL) {
        col.scale = duckdb_decimal_scale(lt);
        col.internal = duckdb_decimal_internal_type(lt);
      } else if (t == DUCKDB_TYPE_ENUM) {
        col.internal = duckdb_enum_internal_type(lt);
        size_t n = duckdb_enum_dictionary_size(lt);
        col.dict.assign(n, std::string());
        col.have.assign(n, false);
        col.logical = lt;
        return;
      }
    } else if (t != col.type) {
      duckdb_destroy_logical_type(&lt);
      throw Napi::TypeError::New(env, "PgRowEncoder: column " + std::to_string(index) + " changed type between chunks");
    }
    duckdb_destroy_logical_type(&lt);
  }

  const std::string& EnumEntry(Column& col, uint64_t i) {
    static const std::string none;
    if (i >= col.dict.size()) return none;  // DuckDB never stores an index outside the dictionary
    if (!col.have[i]) {
      char* s = duckdb_enum_dictionary_value(col.logical, i);
      col.dict[i] = s ? s : "";
      duckdb_free(s);
      col.have[i] = true;
    }
    return col.dict[i];
  }

  static void StringAt(const void* data, size_t r, const char** p, uint32_t* n) {
    auto* s = static_cast<const duckdb_string_t*>(data) + r;
    *n = s->value.inlined.length;
    *p = *n <= 12 ? s->value.inlined.inlined : s->value.pointer.ptr;
  }

  uint64_t EnumIndex(const Column& col, const void* data, size_t r) {
    switch (col.internal) {
      case DUCKDB_TYPE_UTINYINT: return static_cast<const uint8_t*>(data)[r];
      case DUCKDB_TYPE_USMALLINT: return static_cast<const uint16_t*>(data)[r];
      default: return static_cast<const uint32_t*>(data)[r];
    }
  }

  // DECIMAL's scaled value as sign + magnitude.
  static void DecimalAt(const Column& col, const void* data, size_t r, bool* neg, u128* abs) {
    __int128 v;
    switch (col.internal) {
      case DUCKDB_TYPE_SMALLINT: v = static_cast<const int16_t*>(data)[r]; break;
      case DUCKDB_TYPE_INTEGER: v = static_cast<const int32_t*>(data)[r]; break;
      case DUCKDB_TYPE_BIGINT: v = static_cast<const int64_t*>(data)[r]; break;
      default: {
        auto h = static_cast<const duckdb_hugeint*>(data)[r];
        v = (__int128(h.upper) << 64) | h.lower;
      }
    }
    *neg = v < 0;
    *abs = v < 0 ? u128(0) - u128(v) : u128(v);
  }

  // Integers that go out as numeric (UBIGINT, HUGEINT, UHUGEINT) and DECIMAL, as text.
  void NumericText(const Column& col, const void* data, size_t r) {
    switch (col.type) {
      case DUCKDB_TYPE_UBIGINT: return out_.Int(static_cast<const uint64_t*>(data)[r]);
      case DUCKDB_TYPE_HUGEINT: {
        auto h = static_cast<const duckdb_hugeint*>(data)[r];
        __int128 v = (__int128(h.upper) << 64) | h.lower;
        if (v < 0) out_.Byte('-');
        return U128(out_, v < 0 ? u128(0) - u128(v) : u128(v));
      }
      case DUCKDB_TYPE_UHUGEINT: {
        auto h = static_cast<const duckdb_uhugeint*>(data)[r];
        return U128(out_, (u128(h.upper) << 64) | h.lower);
      }
      default: {
        bool neg;
        u128 abs;
        DecimalAt(col, data, r, &neg, &abs);
        return DecimalText(out_, neg, abs, col.scale);
      }
    }
  }

  static u128 UuidBits(const void* data, size_t r) {
    auto h = static_cast<const duckdb_hugeint*>(data)[r];
    // DuckDB stores a UUID as a hugeint with the top bit flipped (so it sorts as signed)
    return (u128(uint64_t(h.upper) ^ (uint64_t(1) << 63)) << 64) | h.lower;
  }

  void Text(Column& col, const void* data, size_t r) {
    switch (col.type) {
      case DUCKDB_TYPE_BOOLEAN: return out_.Byte(static_cast<const bool*>(data)[r] ? 't' : 'f');
      case DUCKDB_TYPE_TINYINT: return out_.Int(static_cast<const int8_t*>(data)[r]);
      case DUCKDB_TYPE_SMALLINT: return out_.Int(static_cast<const int16_t*>(data)[r]);
      case DUCKDB_TYPE_UTINYINT: return out_.Int(static_cast<const uint8_t*>(data)[r]);
      case DUCKDB_TYPE_INTEGER: return out_.Int(static_cast<const int32_t*>(data)[r]);
      case DUCKDB_TYPE_USMALLINT: return out_.Int(static_cast<const uint16_t*>(data)[r]);
      case DUCKDB_TYPE_BIGINT: return out_.Int(static_cast<const int64_t*>(data)[r]);
      case DUCKDB_TYPE_UINTEGER: return out_.Int(static_cast<const uint32_t*>(data)[r]);
      case DUCKDB_TYPE_UBIGINT:
      case DUCKDB_TYPE_HUGEINT:
      case DUCKDB_TYPE_UHUGEINT:
      case DUCKDB_TYPE_DECIMAL: return NumericText(col, data, r);
      case DUCKDB_TYPE_FLOAT: return Float4Text(out_, static_cast<const float*>(data)[r]);
      case DUCKDB_TYPE_DOUBLE: return Float8Text(out_, static_cast<const double*>(data)[r]);
      case DUCKDB_TYPE_VARCHAR: {
        const char* p;
        uint32_t n;
        StringAt(data, r, &p, &n);
        return out_.Bytes(p, n);
      }
      case DUCKDB_TYPE_ENUM: {
        const std::string& s = EnumEntry(col, EnumIndex(col, data, r));
        return out_.Bytes(s.data(), s.size());
      }
      case DUCKDB_TYPE_BLOB: {  // formatBytea: \x + lowercase hex
        const char* p;
        uint32_t n;
        StringAt(data, r, &p, &n);
        static const char hex[] = "0123456789abcdef";
        char* w = out_.Reserve(2 + size_t(n) * 2);
        *w++ = '\\', *w++ = 'x';
        for (uint32_t i = 0; i < n; i++) {
          uint8_t b = uint8_t(p[i]);
          *w++ = hex[b >> 4], *w++ = hex[b & 15];
        }
        return out_.Advance(2 + size_t(n) * 2);
      }
      case DUCKDB_TYPE_DATE: return DateText(out_, static_cast<const int32_t*>(data)[r]);
      case DUCKDB_TYPE_TIME: return TimeText(out_, static_cast<const int64_t*>(data)[r]);
      case DUCKDB_TYPE_TIMESTAMP: return ts_.Write(out_, static_cast<const int64_t*>(data)[r], false);
      case DUCKDB_TYPE_TIMESTAMP_TZ: return ts_.Write(out_, static_cast<const int64_t*>(data)[r], true, tz_offset_);
      case DUCKDB_TYPE_INTERVAL: return IntervalText(out_, static_cast<const duckdb_interval*>(data)[r]);
      case DUCKDB_TYPE_UUID: {
        u128 v = UuidBits(data, r);
        static const char hex[] = "0123456789abcdef";
        char s[36];
        int k = 35;
        for (int i = 0; i < 32; i++) {
          if (k == 8 || k == 13 || k == 18 || k == 23) s[k--] = '-';
          s[k--] = hex[int(v & 15)];
          v >>= 4;
        }
        return out_.Bytes(s, 36);
      }
      default: return;  // Bind refused other types
    }
  }

  void Binary(Napi::Env env, Column& col, const void* data, size_t r) {
    switch (col.type) {
      case DUCKDB_TYPE_BOOLEAN:
        out_.Be32(1);
        return out_.Byte(static_cast<const bool*>(data)[r] ? 1 : 0);
      case DUCKDB_TYPE_TINYINT: out_.Be32(2); return out_.Be16(uint16_t(static_cast<const int8_t*>(data)[r]));
      case DUCKDB_TYPE_SMALLINT: out_.Be32(2); return out_.Be16(uint16_t(static_cast<const int16_t*>(data)[r]));
      case DUCKDB_TYPE_UTINYINT: out_.Be32(2); return out_.Be16(static_cast<const uint8_t*>(data)[r]);
      case DUCKDB_TYPE_INTEGER: out_.Be32(4); return out_.Be32(uint32_t(static_cast<const int32_t*>(data)[r]));
      case DUCKDB_TYPE_USMALLINT: out_.Be32(4); return out_.Be32(static_cast<const uint16_t*>(data)[r]);
      case DUCKDB_TYPE_BIGINT: out_.Be32(8); return out_.Be64(uint64_t(static_cast<const int64_t*>(data)[r]));
      case DUCKDB_TYPE_UINTEGER: out_.Be32(8); return out_.Be64(static_cast<const uint32_t*>(data)[r]);
      case DUCKDB_TYPE_FLOAT: {
        float f = static_cast<const float*>(data)[r];
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        if (std::isnan(f)) bits = 0x7fc00000u;  // what Buffer.writeFloatBE writes for NaN
        out_.Be32(4);
        return out_.Be32(bits);
      }
      case DUCKDB_TYPE_DOUBLE: {
        double d = static_cast<const double*>(data)[r];
        uint64_t bits;
        std::memcpy(&bits, &d, 8);
        if (std::isnan(d)) bits = 0x7ff8000000000000ull;
        out_.Be32(8);
        return out_.Be64(bits);
      }
      case DUCKDB_TYPE_UBIGINT:
      case DUCKDB_TYPE_HUGEINT:
      case DUCKDB_TYPE_UHUGEINT:
      case DUCKDB_TYPE_DECIMAL: {
        // numeric binary from its text, as encodeNumeric(String(v)) does
        size_t at = out_.size();
        NumericText(col, data, r);
        std::string text(out_.data() + at, out_.size() - at);
        // replace the text with [length][binary]
        out_.Truncate(at);
        size_t len_at = out_.size();
        out_.Be32(0);
        NumericBinary(out_, text.data(), text.size());
        return out_.PatchBe32(len_at, uint32_t(out_.size() - len_at - 4));
      }
      case DUCKDB_TYPE_VARCHAR:
      case DUCKDB_TYPE_BLOB: {
        const char* p;
        uint32_t n;
        StringAt(data, r, &p, &n);
        out_.Be32(n);
        return out_.Bytes(p, n);
      }
      case DUCKDB_TYPE_ENUM: {
        const std::string& s = EnumEntry(col, EnumIndex(col, data, r));
        out_.Be32(uint32_t(s.size()));
        return out_.Bytes(s.data(), s.size());
      }
      case DUCKDB_TYPE_UUID: {
        u128 v = UuidBits(data, r);
        out_.Be32(16);
        out_.Be64(uint64_t(v >> 64));
        return out_.Be64(uint64_t(v));
      }
      case DUCKDB_TYPE_TIMESTAMP:
      case DUCKDB_TYPE_TIMESTAMP_TZ: {
        int64_t v = static_cast<const int64_t*>(data)[r];
        // Buffer.writeBigInt64BE throws outside int64 (e.g. -infinity): so do we
        if (v < INT64_MIN + kPgEpochMicros) throw Napi::RangeError::New(env, "timestamp out of range for binary output");
        out_.Be32(8);
        return out_.Be64(uint64_t(v - kPgEpochMicros));
      }
      case DUCKDB_TYPE_DATE: {
        int64_t v = int64_t(static_cast<const int32_t*>(data)[r]) - kPgEpochDays;
        if (v < INT32_MIN) throw Napi::RangeError::New(env, "date out of range for binary output");
        out_.Be32(4);
        return out_.Be32(uint32_t(int32_t(v)));
      }
      case DUCKDB_TYPE_TIME: out_.Be32(8); return out_.Be64(uint64_t(static_cast<const int64_t*>(data)[r]));
      case DUCKDB_TYPE_INTERVAL: {
        auto v = static_cast<const duckdb_interval*>(data)[r];
        out_.Be32(16);
        out_.Be64(uint64_t(v.micros));
        out_.Be32(uint32_t(v.days));
        return out_.Be32(uint32_t(v.months));
      }
      default: return;
    }
  }

  std::vector<Column> columns_;
  Out out_;
  TimestampText ts_;
  int32_t tz_offset_ = 0;
};

Napi::Value TypeSupported(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), info[0].IsNumber() && Supported(duckdb_type(info[0].As<Napi::Number>().Int32Value())));
}

}  // namespace

void InitPgRows(Napi::Env env, Napi::Object exports) {
  exports.Set("PgRowEncoder", PgRowEncoder::Define(env));
  exports.Set("pgRowTypeSupported", Napi::Function::New(env, TypeSupported));
}

}  // namespace wiretap_duck
