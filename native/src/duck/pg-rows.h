// PostgreSQL DataRow ('D') messages straight from DuckDB data chunks: the wire server's fast path
// for results (server/pg/row-batches.ts decides when it is used). Output is byte-for-byte what
// the JS encoders (server/pg/text-format.ts, binary-format.ts) write for the same values with
// the session settings that path accepts (TimeZone UTC, DateStyle ISO, IntervalStyle postgres,
// extra_float_digits >= 1).
#pragma once
#include <napi.h>

namespace wiretap_duck {

// Adds PgRowEncoder (class: new PgRowEncoder(formats: Uint8Array), .encode(chunk, start, end) → Buffer)
// and pgRowTypeSupported(duckdbTypeId) → boolean to the addon's exports.
void InitPgRows(Napi::Env env, Napi::Object exports);

}  // namespace wiretap_duck
