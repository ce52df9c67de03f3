// The `wiretap_scan(id)` table function in C++: DuckDB's own threads scan the decoded column
// buffers of a registered plan (engine/scan/), with projection pushdown, never calling into JS.
#pragma once
#include <napi.h>

namespace wiretap_duck {

// Exports `ScanRegistry` (new ScanRegistry(connection, functionName)).
void InitScan(Napi::Env env, Napi::Object exports);

}  // namespace wiretap_duck
