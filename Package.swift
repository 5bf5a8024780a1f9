// swift-tools-version:6.0
// MixQ: will this quantized network fit my Cortex-M7, how fast does it run, what accuracy does it keep?
import PackageDescription

let package = Package(
    name: "MixQ",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mixq", targets: ["mixq"]),
        .library(name: "Emulator", targets: ["Emulator"]),
        .library(name: "FirmwareBuild", targets: ["FirmwareBuild"]),
        .library(name: "Quantization", targets: ["Quantization"]),
        .library(name: "Planning", targets: ["Planning"]),
        .library(name: "Timing", targets: ["Timing"]),
        .library(name: "Deployment", targets: ["Deployment"]),
        .library(name: "ModelImport", targets: ["ModelImport"]),
        .library(name: "TFLiteSchema", targets: ["TFLiteSchema"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Reports", targets: ["Reports"]),
        .library(name: "Profiling", targets: ["Profiling"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Debian's libunicorn-dev and libcapstone-dev, found through pkg-config.
        .systemLibrary(name: "CUnicorn", pkgConfig: "unicorn",
                       providers: [.apt(["libunicorn-dev"])]),
        .systemLibrary(name: "CCapstone", pkgConfig: "capstone",
                       providers: [.apt(["libcapstone-dev"])]),
        // Debian's libjpeg-turbo and libpng: image-folder datasets (`--dataset` a folder of JPEG/PNG files).
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // JPEG/PNG decode and encode behind setjmp (both libraries longjmp out of errors; Swift cannot).
        .target(name: "ImageCodecs", dependencies: ["CJPEG", "CPNG"]),
        // Fixed-arity wrappers over Unicorn's variadic C API (Swift cannot call variadics).
        .target(name: "UnicornShim", dependencies: ["CUnicorn"]),

        // Run a Cortex-M7 ELF on an emulated STM32H743.
        .target(name: "Emulator", dependencies: ["UnicornShim", "CUnicorn", "Timing", "Diagnostics"]),
        // GDB remote serial protocol, pure: packet framing, checksums, escapes, commands.
        .target(name: "GDBRemote"),
        // `mixq run --gdb`: answers GDB's packets from an Emulator DebugSession over TCP.
        .target(name: "GDBStub", dependencies: ["GDBRemote", "Emulator"]),
        // Cortex-M7 cycle model: decode a block once (Capstone), schedule it, cache/FLASH model.
        .target(name: "Timing", dependencies: ["CCapstone"]),
        // A run's profile -> cycles per function, source line (DWARF .debug_line) and memory
        // region, folded stacks, a Chrome trace: what `mixq run --profile` writes.
        .target(name: "Profiling", dependencies: ["Emulator", "Timing"]),
        // arm-none-eabi-gcc driver: builds firmware into a content-keyed cache.
        .target(name: "FirmwareBuild", dependencies: [
            "Diagnostics", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Integer arithmetic of quantized networks: requantization, packing, reference layers.
        .target(name: "Quantization"),
        // Text a user reads: escaping file-controlled names, Foundation's errors in words.
        .target(name: "Diagnostics"),
        // Network IR, the MobilenetV1 family and the memory-driven bit-width planner.
        .target(name: "Planning", dependencies: ["Quantization"]),

        // Float model -> integer network -> C source -> ELF -> on-target run, checked against
        // the host reference.
        .target(name: "Deployment", dependencies: ["Planning", "Quantization", "FirmwareBuild", "Emulator", "Timing", "Diagnostics"]),
        // The ONNX protobuf schema as Swift types, generated from the onnx wheel's onnx.proto by
        // toolchain/gen_onnx_swift.sh (committed; not generated at build time).
        .target(name: "ONNXSchema", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // The TFLite flatbuffer schema (tables of TensorFlow's schema.fbs) read by a hand-written,
        // bounds-checked FlatBuffers reader: no dependencies.
        .target(name: "TFLiteSchema"),
        // Trained networks in: ONNX and QONNX files -> Network + FloatModel (+ the file's quantization).
        .target(name: "ModelImport", dependencies: [
            "ONNXSchema", "TFLiteSchema", "Planning", "Quantization", "Deployment", "Diagnostics",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // Measured accuracy: labelled datasets (.npy, or image folders), Top-1/Top-5 of the integer network on the
        // host reference, of the float/fake-quantized network, and on-target bit-exactness.
        .target(name: "Evaluation", dependencies: ["Deployment", "Planning", "Quantization", "FirmwareBuild", "Emulator", "Diagnostics",
                                                 "ImageCodecs"]),
        // Results folders -> tables (Markdown, CSV, JSON), SVG plots, Pareto front, per-layer
        // profiles. Reads JSON/CSV files only: depends on no other MixQ module but Diagnostics.
        .target(name: "Reports", dependencies: ["Diagnostics"],
                resources: [.copy("Resources/published_top1.csv"), .copy("Resources/published_latency.csv")]),

        .executableTarget(name: "mixq", dependencies: [
            "Emulator", "FirmwareBuild", "Quantization", "Planning", "Timing", "Deployment", "Reports",
            "ModelImport", "Evaluation", "Profiling", "GDBStub", "Diagnostics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "EmulatorTests", dependencies: ["Emulator", "FirmwareBuild", "Quantization"]),
        .testTarget(name: "ProfilingTests", dependencies: ["Profiling", "Emulator", "Timing", "FirmwareBuild", "Quantization"]),
        .testTarget(name: "TimingTests", dependencies: ["Timing", "Emulator", "FirmwareBuild"]),
        .testTarget(name: "FirmwareBuildTests", dependencies: ["FirmwareBuild"]),
        .testTarget(name: "DeploymentTests", dependencies: ["Deployment", "Planning", "Quantization", "Emulator"]),
        // Runs the built `mixq` executable to check the CLI contract.
        .testTarget(name: "MixQTests", dependencies: ["mixq", "FirmwareBuild", "Emulator"]),
        .testTarget(name: "GDBRemoteTests", dependencies: ["GDBRemote"]),
        .testTarget(name: "GDBStubTests", dependencies: ["GDBStub", "GDBRemote", "Emulator", "FirmwareBuild"]),
        .testTarget(name: "QuantizationTests", dependencies: ["Quantization"], exclude: ["Fixtures"]),
        .testTarget(name: "PlanningTests", dependencies: ["Planning", "Quantization"],
                    resources: [.copy("Resources")]),
        .testTarget(name: "KernelTests", dependencies: ["Quantization", "Emulator", "FirmwareBuild"]),
        .testTarget(name: "ModelImportTests", dependencies: ["ModelImport", "ONNXSchema", "Deployment", "Planning", "Quantization", "Evaluation",
                                                            "FirmwareBuild",
                                                            .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    exclude: ["Fixtures"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "ModelImport", "Deployment", "Planning", "Quantization", "Diagnostics",
                                                           "FirmwareBuild", "ImageCodecs"], exclude: ["Fixtures"]),
        .testTarget(name: "TFLiteSchemaTests", dependencies: ["TFLiteSchema", "Quantization"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports"], resources: [.copy("Fixtures")]),
    ]
)
