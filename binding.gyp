{
  "targets": [
    {
      "target_name": "hull",
      "sources": [
        "native/addon.cc",
        "native/bpf.cc",
        "native/userns.cc",
        "native/child.cc",
        "native/launch.cc",
        "native/errors.cc",
        "native/spawn.cc",
        "native/sys.cc",
        "native/relay.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "_GNU_SOURCE"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-fexceptions",
        "-Wall",
        "-Wextra",
        "-Wno-missing-field-initializers"
      ]
    },
    {
      "target_name": "hull-monitor",
      "type": "executable",
      "sources": [
        "native/monitor.cc",
        "native/monitor-control.cc",
        "native/launch.cc",
        "native/child.cc"
      ],
      "defines": [
        "_GNU_SOURCE"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-std=gnu++17"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-fno-exceptions",
        "-fno-rtti",
        "-Os",
        "-Wall",
        "-Wextra",
        "-Wno-missing-field-initializers"
      ],
      "ldflags": [
        "-static",
        "-Wl,--gc-sections",
        "-s"
      ]
    },
    {
      "target_name": "hull-init",
      "type": "executable",
      "sources": [
        "native/init.cc"
      ],
      "defines": [
        "_GNU_SOURCE"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-std=gnu++17"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-fno-exceptions",
        "-fno-rtti",
        "-Os",
        "-Wall",
        "-Wextra",
        "-Wno-missing-field-initializers"
      ],
      "ldflags": [
        "-static",
        "-Wl,--gc-sections",
        "-s"
      ]
    },
    {
      "target_name": "hull-pause",
      "type": "executable",
      "sources": [
        "native/pause.c"
      ],
      "cflags": [
        "-Os",
        "-Wall",
        "-Wextra"
      ],
      "ldflags": [
        "-static",
        "-Wl,--gc-sections",
        "-s"
      ]
    },
    {
      "target_name": "hull-runc",
      "type": "executable",
      "sources": [
        "native/runc-front.cc",
        "native/json-reader.cc"
      ],
      "defines": [
        "_GNU_SOURCE",
        "HULL_NODE_PATH=\"<!(node -p process.execPath)\""
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-std=gnu++17"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-fno-exceptions",
        "-fno-rtti",
        "-Os",
        "-Wall",
        "-Wextra",
        "-Wno-missing-field-initializers"
      ],
      "ldflags": [
        "-static",
        "-Wl,--gc-sections",
        "-s"
      ]
    }
  ]
}
