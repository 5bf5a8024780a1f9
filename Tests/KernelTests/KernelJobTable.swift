import Emulator
import FirmwareBuild
import Foundation
import Quantization

/// One kernel call as the test firmware reads it: the Swift twin of `kernel_job` in
/// firmware/tests/kernel_job.h (28 little-endian words; keep the field order in step).
struct KernelJob {
    enum Path: UInt32 { case optimized = 0, plain = 1 }

    var path: Path
    var geometry: ConvolutionGeometry
    var inputBits: BitWidth
    var weightBits: BitWidth
    var outputBits: BitWidth
    var flavour: RequantizationFlavour
    var inputZeroPoint: Int
    var outputZeroPoint: Int
    var input: [UInt8]
    var weights: [UInt8]
    /// The C parameter arrays (bias, M0, N0, zw), little-endian.
    var parameters: KernelParameterArrays
    /// Bytes the kernel must write (packed output size).
    var outputBytes: Int
    /// Descriptor words to replace after layout (word index -> value), to hand a kernel arguments
    /// the Swift types cannot express (an invalid bit width, a misaligned weight pointer).
    var overrides: [Int: UInt32] = [:]

    var flavourCode: UInt32 {
        switch flavour {
        case .perLayerFolded: return 0
        case .perLayerICN: return 1
        case .perChannelICN: return 2
        }
    }
}

/// Where a job's buffers landed in the arena.
struct PlacedJob {
    var job: KernelJob
    var words: [UInt32]
    var outputOffset: Int
}

/// The outcome of one job on the target.
struct KernelJobResult {
    var output: [UInt8]
    /// Bytes after the output: must still hold the guard pattern.
    var guardBytes: [UInt8]
    var status: Int32
    var cycles: UInt32
}

/// Builds the job table and the arena, runs a family's test firmware once, reads results back.
enum KernelFirmware {
    static let maxJobs = 256
    static let arenaBytes = 440 * 1024
    static let wordsPerJob = 28
    static let guardPattern: UInt8 = 0xA5
    static let guardCount = 8

    /// The family's firmware (`firmware/tests/kernel_<family>.c` plus `firmware/kernels/<family>.c`),
    /// built once through the content-keyed cache.
    static func image(family: String) throws -> ELFImage {
        let spec = FirmwareSpec(name: "kernel_\(family)", sources: ["tests/kernel_\(family).c", "kernels/\(family).c"],
                                includeDirectories: ["kernels"])
        return try ELFImage(contentsOf: Toolchain.locate().build(spec).elf)
    }

    /// Runs `jobs` (at most `maxJobs`, arena permitting) in one emulator run.
    static func run(family: String, jobs: [KernelJob]) throws -> [KernelJobResult] {
        guard jobs.count <= maxJobs else { throw HarnessError(message: "\(jobs.count) jobs exceed the table's \(maxJobs)") }
        var arena: [UInt8] = []
        func place(_ bytes: [UInt8]) -> UInt32 {
            while arena.count % 32 != 0 { arena.append(0) }
            let offset = arena.count
            arena += bytes
            return UInt32(offset)
        }
        var placed: [PlacedJob] = []
        for job in jobs {
            let g = job.geometry
            let input = place(job.input)
            let weights = place(job.weights)
            let bias = place(job.parameters.bias)
            let multiplier = place(job.parameters.multiplier)
            let shift = place(job.parameters.shift)
            let zero = place(job.parameters.weightZero)
            let output = place([UInt8](repeating: guardPattern, count: job.outputBytes + guardCount))
            let words: [UInt32] = [
                job.path.rawValue,
                UInt32(g.inputHeight), UInt32(g.inputWidth), UInt32(g.inputChannels),
                UInt32(g.outputHeight), UInt32(g.outputWidth), UInt32(g.outputChannels),
                UInt32(g.kernelHeight), UInt32(g.kernelWidth), UInt32(g.strideHeight), UInt32(g.strideWidth),
                UInt32(g.padTop), UInt32(g.padLeft),
                UInt32(job.inputBits.bits), UInt32(job.weightBits.bits), UInt32(job.outputBits.bits), job.flavourCode,
                UInt32(job.inputZeroPoint), UInt32(job.outputZeroPoint),
                input, weights, bias, multiplier, shift, zero, output,
                0xDEAD_BEEF, 0,   // status, cycles: written by the firmware
            ]
            var patched = words
            for (index, value) in job.overrides { patched[index] = value }
            placed.append(PlacedJob(job: job, words: patched, outputOffset: Int(output)))
        }
        guard arena.count <= arenaBytes else {
            throw HarnessError(message: "\(arena.count) bytes of tensors do not fit the \(arenaBytes)-byte test arena")
        }
        var table = littleEndian(UInt32(jobs.count))
        for p in placed { table += p.words.flatMap(littleEndian) }

        let image = try image(family: family)
        guard let tableSymbol = image.symbol(named: "kernel_jobs"), let arenaSymbol = image.symbol(named: "kernel_arena")
        else { throw HarnessError(message: "kernel_\(family).elf lacks kernel_jobs or kernel_arena") }
        let machine = try Machine(part: .stm32h743)
        let result = try machine.run(image, options: RunOptions(maxInstructions: 4_000_000_000), inputs: [
            MemoryWrite(address: tableSymbol.address, bytes: table),
            MemoryWrite(address: arenaSymbol.address, bytes: arena),
        ])
        guard result.exitStatus == 0 else {
            throw HarnessError(message: "kernel_\(family) exited with \(result.exitStatus): \(result.stdout)\(result.stderr)")
        }
        let tableBack = try machine.readMemory(at: tableSymbol.address, count: table.count)
        return try placed.enumerated().map { index, p in
            let base = 4 + index * wordsPerJob * 4
            let status = Int32(bitPattern: word(tableBack, at: base + 26 * 4))
            let cycles = word(tableBack, at: base + 27 * 4)
            let bytes = try machine.readMemory(at: arenaSymbol.address + UInt32(p.outputOffset),
                                               count: p.job.outputBytes + guardCount)
            return KernelJobResult(output: Array(bytes[..<p.job.outputBytes]), guardBytes: Array(bytes[p.job.outputBytes...]),
                                   status: status, cycles: cycles)
        }
    }

    static func littleEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }

    static func word(_ bytes: [UInt8], at i: Int) -> UInt32 {
        UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
