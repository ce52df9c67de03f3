// Access to the DuckDB objects that @duckdb/node-bindings hands JS as type-tagged externals.
// Both addons call the C API of the same libduckdb.so (one copy per process: same soname),
// so a duckdb_connection or duckdb_data_chunk taken from their externals is ours to use.
#pragma once
#include <napi.h>
#include "duckdb.h"

namespace wiretap_duck {

// conn.connection of a @duckdb/node-api DuckDBConnection (checks the bindings' type tag).
duckdb_connection ConnectionFromJs(Napi::Env env, Napi::Value external);
// chunk.chunk of a @duckdb/node-api DuckDBDataChunk.
duckdb_data_chunk DataChunkFromJs(Napi::Env env, Napi::Value external);

}  // namespace wiretap_duck
