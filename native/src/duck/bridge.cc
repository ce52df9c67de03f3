#include "bridge.h"

namespace wiretap_duck {
namespace {

// Type tags of @duckdb/node-bindings (duckdb_node_bindings.cpp). If a new bindings release
// changes them, the check fails with a clear error instead of reading a foreign pointer.
const napi_type_tag kConnectionTag = {0x922B9BF54AB04DFC, 0x8A258578D371DB71};
const napi_type_tag kDataChunkTag = {0x2C7537AB063A4296, 0xB1E70F08B0BBD1A3};

// The bindings wrap a connection in a holder struct whose only field is the connection.
struct ConnectionHolder {
  duckdb_connection connection;
};

void* TaggedExternal(Napi::Env env, Napi::Value value, const napi_type_tag& tag, const char* what) {
  if (!value.IsExternal()) {
    throw Napi::TypeError::New(env, std::string(what) + ": expected a @duckdb/node-bindings external");
  }
  bool matches = false;
  if (napi_check_object_type_tag(env, value, &tag, &matches) != napi_ok || !matches) {
    throw Napi::TypeError::New(env, std::string(what) +
                                        ": type tag mismatch (unsupported @duckdb/node-bindings version)");
  }
  return value.As<Napi::External<void>>().Data();
}

}  // namespace

duckdb_connection ConnectionFromJs(Napi::Env env, Napi::Value external) {
  auto* holder = static_cast<ConnectionHolder*>(TaggedExternal(env, external, kConnectionTag, "connection"));
  if (holder == nullptr || holder->connection == nullptr) {
    throw Napi::Error::New(env, "connection: already closed");
  }
  return holder->connection;
}

duckdb_data_chunk DataChunkFromJs(Napi::Env env, Napi::Value external) {
  auto* chunk = static_cast<duckdb_data_chunk>(TaggedExternal(env, external, kDataChunkTag, "data chunk"));
  if (chunk == nullptr) throw Napi::Error::New(env, "data chunk: destroyed");
  return chunk;
}

}  // namespace wiretap_duck
