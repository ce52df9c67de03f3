// wiretap_duck.node: native hot paths over @duckdb/node-api's DuckDB (separate from the
// libbpf addon so the query side loads without BPF and each builds on its own).
#include <napi.h>
#include "bridge.h"
#include "pg-rows.h"
#include "scan.h"

namespace {

// Smoke check used by tests: proves the library is shared and the externals are readable.
Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  duckdb_connection conn = wiretap_duck::ConnectionFromJs(env, info[0]);
  duckdb_result result;
  if (duckdb_query(conn, "select 42", &result) != DuckDBSuccess) {
    std::string message = duckdb_result_error(&result);
    duckdb_destroy_result(&result);
    throw Napi::Error::New(env, message);
  }
  int32_t value = duckdb_value_int32(&result, 0, 0);
  duckdb_destroy_result(&result);
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", duckdb_library_version());
  out.Set("answer", value);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probe", Napi::Function::New(env, Probe));
  wiretap_duck::InitPgRows(env, exports);
  wiretap_duck::InitScan(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(wiretap_duck, Init)
