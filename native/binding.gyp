{
  "targets": [
    {
      "target_name": "wiretap_native",
      "sources": [
        "src/addon.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../bpf"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O2",
        "-Wall",
        "-Wno-missing-field-initializers"
      ],
      "libraries": [
        "-lbpf",
        "-lelf",
        "-lz"
      ]
    },
    {
      "target_name": "wiretap_store",
      "sources": [
        "src/store/intern.cc",
        "src/store/seal.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-Wall"
      ],
      "libraries": [
        "-lzstd"
      ]
    },
    {
      "target_name": "wiretap_duck",
      "sources": [
        "src/duck/addon.cc",
        "src/duck/bridge.cc",
        "src/duck/scan.cc",
        "src/duck/scan-decode.cc",
        "src/duck/pg-rows.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "third_party/duckdb"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O2",
        "-Wall",
        "-Wno-missing-field-initializers"
      ],
      "libraries": [
        "-L<(module_root_dir)/../node_modules/@duckdb/node-bindings-linux-x64",
        "-lduckdb",
        "-lzstd",
        "-Wl,-rpath,<(module_root_dir)/../node_modules/@duckdb/node-bindings-linux-x64"
      ]
    }
  ]
}
