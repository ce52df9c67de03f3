// wiretap_store's sealing entry points (seal.cc), registered by the addon's Init in intern.cc.
#pragma once
#include <napi.h>

namespace wiretap_store {
void RegisterSeal(Napi::Env env, Napi::Object exports);
}
