#!/usr/bin/env bash
# Regenerates Sources/ONNXSchema/onnx.pb.swift from the onnx.proto the `onnx` PyPI wheel ships.
# Needs: protoc (Debian protobuf-compiler), python3 with `pip install onnx==1.23.2`, and
# protoc-gen-swift built from apple/swift-protobuf 1.39.0 (the version Package.swift uses):
#   git clone https://github.com/apple/swift-protobuf && cd swift-protobuf && git checkout 1.39.0
#   swift build -c release --product protoc-gen-swift
# Usage: toolchain/gen_onnx_swift.sh /path/to/protoc-gen-swift
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${1:?usage: $0 /path/to/protoc-gen-swift}"
onnx_dir="$(python3 -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')"
onnx_version="$(python3 -c 'import onnx; print(onnx.__version__)')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$onnx_dir/onnx.proto" "$work/onnx.proto"
(cd "$work" && protoc --plugin="$plugin" --swift_out=. --swift_opt=Visibility=Public onnx.proto)
{
    echo "// Generated code: the ONNX protobuf schema as Swift types (apple/swift-protobuf)."
    echo "// Schema: onnx.proto from the onnx $onnx_version PyPI wheel (github.com/onnx/onnx),"
    echo "// licensed under the Apache License 2.0 (SPDX-License-Identifier: Apache-2.0)."
    echo "// Regenerate with: toolchain/gen_onnx_swift.sh /path/to/protoc-gen-swift"
    echo "// (protoc $(protoc --version | cut -d' ' -f2), protoc-gen-swift from swift-protobuf 1.39.0). Do not edit."
    echo
    cat "$work/onnx.pb.swift"
} > Sources/ONNXSchema/onnx.pb.swift
echo "wrote Sources/ONNXSchema/onnx.pb.swift"
