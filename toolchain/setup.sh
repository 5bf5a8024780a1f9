#!/usr/bin/env bash
# MixQ set-up: installs everything MixQ needs on Debian 12 (idempotent).
# Swift 6.3 itself is expected on PATH (see README.md).
set -euo pipefail

# Debian packages MixQ uses, and why:
#   libunicorn-dev            the CPU emulator behind `mixq run` (system-library target CUnicorn)
#   libcapstone-dev           Thumb-2 decoder for the cycle model (system-library target CCapstone)
#   gcc-arm-none-eabi         builds firmware and kernels for the Cortex-M7
#   libnewlib-arm-none-eabi   the C library the firmware links against (printf, memcpy, ...)
#   pkg-config                lets SwiftPM find the system libraries listed here
#   protobuf-compiler         the tests decode `mixq run --profile`'s pprof file with `protoc --decode_raw`
#   gdb-multiarch             the GDB stub tests (`mixq run --gdb`, Tests/MixQTests/GDBCLITests.swift) drive it
#   libjpeg62-turbo-dev       libjpeg-turbo: decodes JPEG files of image-folder datasets (system-library target CJPEG)
#   libpng-dev                libpng: decodes PNG files of image-folder datasets (system-library target CPNG)
#   librsvg2-bin              rsvg-convert: the report tests render every plot to PNG and check that labels
#                             overlap no marker, legend or other label (Tests/ReportsTests/PlotRenderingTests.swift)
PACKAGES=(libunicorn-dev libcapstone-dev gcc-arm-none-eabi libnewlib-arm-none-eabi pkg-config protobuf-compiler gdb-multiarch
          librsvg2-bin libjpeg62-turbo-dev libpng-dev)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "mixq setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "mixq setup: error: 'swift' is not on PATH; install Swift 6.3 (swift.org) and retry" >&2
  exit 1
fi
