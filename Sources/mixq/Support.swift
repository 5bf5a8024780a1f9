import ArgumentParser
import Emulator
import Foundation
import Planning

/// A library error turned into the CLI's contract: one `error:` line on stderr, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String

    init(_ error: Error) {
        message = String(describing: error)
    }

    init(message: String) {
        self.message = message
    }

    var description: String { message }
}

/// The conditions every printed figure carries.
extension RunResult {
    /// The one line every run prints: exit status, instructions, cycles, time, the conditions
    /// those figures hold under, and the emulation speed.
    var summaryLine: String {
        String(format: "mixq: exit status %d, %llu instructions, %llu cycles = %.3f ms at %d MHz; ",
               exitStatus, instructions, cycles, milliseconds, clockMHz)
            + "conditions: \(conditions); " + String(format: "%.1f emulated MIPS", emulatedMIPS)
    }
}

enum JSONOutput {
    /// Pretty, key-sorted JSON, so output is stable from run to run.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func print<T: Encodable>(_ value: T) throws {
        var data = try encode(value)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }

    static func write<T: Encodable>(_ value: T, to path: String) throws {
        var data = try encode(value)
        data.append(0x0A)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// The network, budgets and scheme `plan`, `deploy` and `sweep` share.
struct NetworkOptions: ParsableArguments {
    @Option(help: "Model name, mobilenet_v1_<alpha>_<resolution>: alpha 0.25, 0.5, 0.75 or 1.0; resolution 128, 160, 192 or 224.")
    var model: String = "mobilenet_v1_1.0_224"

    @Option(help: "FLASH budget M_RO in bytes for weights plus quantization parameters; suffixes k, M, Ki, Mi (default: the paper's STM32H743 setting).")
    var flash: String = String(MemoryBudget.stm32h743.flash)

    @Option(help: "RAM budget M_RW in bytes for each layer's input plus output activations; suffixes k, M, Ki, Mi (default: the paper's STM32H743 setting).")
    var ram: String = String(MemoryBudget.stm32h743.ram)

    @Option(help: "int8 (no cuts), mixpl (per-layer weights: PL+FB / PL+ICN) or mixpc (per-channel weights: PC+ICN).")
    var scheme: String = QuantizationScheme.mixpc.rawValue

    func validate() throws {
        do {
            _ = try BuiltInModels.network(named: model)
            _ = try QuantizationScheme(name: scheme)
            _ = try MemoryBudget(flash: flash, ram: ram)
        } catch {
            throw ValidationError(String(describing: error))
        }
    }

    func network() throws -> Network { try BuiltInModels.network(named: model) }
    func budget() throws -> MemoryBudget { try MemoryBudget(flash: flash, ram: ram) }
    func quantizationScheme() throws -> QuantizationScheme { try QuantizationScheme(name: scheme) }
}
