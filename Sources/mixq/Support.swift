import ArgumentParser
import Deployment
import Emulator
import Diagnostics
import Foundation
import ModelImport
import Planning
import Quantization

/// A library error turned into the CLI's contract: one `error:` line on stderr, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String

    init(_ error: Error) {
        message = Self.words(error)
    }

    /// The one-line text of `error`: Foundation's file errors in words with their path (never
    /// "NSCocoaErrorDomain error 512"), anything else as it describes itself, cut at
    /// `maximumLength` characters so an error quoting a huge value stays readable.
    static func words(_ error: Error) -> String {
        let bridged = error as NSError
        let text: String
        if bridged.domain == NSCocoaErrorDomain || bridged.domain == NSPOSIXErrorDomain {
            let reason = SystemErrorText.reason(error)
            text = SystemErrorText.path(of: error).map { "cannot use \($0): \(reason)" } ?? reason
        } else {
            text = String(describing: error)
        }
        guard text.count > maximumLength else { return text }
        return String(text.prefix(maximumLength)) + "... (\(text.count - maximumLength) more characters)"
    }

    static let maximumLength = 2_000

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

/// The network, budgets and scheme `plan`, `deploy`, `eval` and `sweep` share.
struct NetworkOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A built-in model name or a path to an ONNX / QONNX file.",
        discussion: "Built-in: mobilenet_v1_<alpha>_<resolution> (alpha 0.25, 0.5, 0.75 or 1.0; resolution 128, 160, 192 "
            + "or 224; synthetic weights) or mnist_mobilenet_v1_<alpha>_32; the trained examples in data/models by name (e.g. "
            + "mnist_mobilenet_v1_0.25_32_mixpc_120k_4k). A file's network takes its name from the file."))
    var model: String = "mobilenet_v1_1.0_224"

    @Option(help: ArgumentHelp(SharedOption.partHelp + " Sets the default budgets, and what deploy builds for and runs on.",
                               valueName: "part"))
    var part: String = "stm32h743"

    @Option(help: "FLASH budget M_RO in bytes for weights plus quantization parameters; suffixes k, M, Ki, Mi (default: the part's, 2048000 on the STM32H743 as in the paper).")
    var flash: String?

    @Option(help: "RAM budget M_RW in bytes for each layer's input plus output activations; suffixes k, M, Ki, Mi (default: the part's, 512000 on the STM32H743 as in the paper).")
    var ram: String?

    /// The part `--part` names (validated in `validate()`).
    var emulatedPart: Part { Part.named(part) ?? .stm32h743 }

    @Option(help: "int8 (no cuts), mixpl (per-layer weights: PL+FB / PL+ICN) or mixpc (per-channel weights: PC+ICN). Default: mixpc; for a QONNX file, the one it was trained for (per-channel weights: mixpc; per tensor: int8 when all 8-bit, else mixpl).")
    var scheme: String?

    @Option(help: "Use one requantization flavour for every layer: pl_fb, pl_icn or pc_icn (default: the scheme's rule). pl_icn or pc_icn keep every trained weight code of a QONNX file.")
    var flavour: String?

    @Option(help: "Input preprocessing: the float network sees (pixel - mean) * scale. Default 0 (for a QONNX file: what its input Quant states).")
    var inputMean: Double?

    @Option(help: "Input preprocessing scale (default 1/255; for a QONNX file: what its input Quant states).")
    var inputScale: Double?

    func validate() throws {
        do {
            if !ModelReference.isKnown(model) { _ = try ModelReference(model) }
            if let scheme { _ = try QuantizationScheme(name: scheme) }
            _ = try budget()
            _ = try SharedOption.part(named: part)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError(String(describing: error))
        }
        if let flavour, RequantizationFlavour(rawValue: flavour) == nil {
            throw ValidationError("unknown flavour '\(flavour)'; valid: " + RequantizationFlavour.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if let inputScale, !(inputScale > 0 && inputScale.isFinite) {
            throw ValidationError("--input-scale must be positive, got \(inputScale)")
        }
        if let inputMean, !inputMean.isFinite { throw ValidationError("--input-mean must be a finite number") }
    }

    /// The model `--model` names, imported when it is a file.
    func reference() throws -> ModelReference {
        do {
            return try ModelReference(model, inputMean: inputMean, inputScale: inputScale)
        } catch {
            throw CommandFailure(error)
        }
    }

    func network() throws -> Network { try reference().network }
    /// `--flash` and `--ram`, each defaulting to the part's budget.
    func budget() throws -> MemoryBudget {
        try MemoryBudget(flash: flash ?? String(emulatedPart.flashBudget), ram: ram ?? String(emulatedPart.ramBudget))
    }

    /// `--scheme`, or the model's default.
    func quantizationScheme(for reference: ModelReference) throws -> QuantizationScheme {
        try scheme.map { try QuantizationScheme(name: $0) } ?? reference.defaultScheme
    }

    /// `--flavour`, or the model's default (a QONNX file keeps its trained weights) unless a
    /// scheme was named.
    func requantizationFlavour(for reference: ModelReference) -> RequantizationFlavour? {
        if let flavour { return RequantizationFlavour(rawValue: flavour) }
        return scheme == nil ? reference.defaultFlavour : nil
    }

    /// The deployment request of `--model` under the options (scheme, budget, flavour, weights
    /// and where they came from); callers set the run's own options (clock, timing, ...).
    func request(for reference: ModelReference) throws -> DeploymentRequest {
        var request = try DeploymentRequest(network: reference.network, scheme: quantizationScheme(for: reference),
                                            budget: budget(), model: reference.model)
        request.part = emulatedPart
        request.clockMHz = emulatedPart.defaultClockMHz
        request.timing = .pipeline
        request.flavour = requantizationFlavour(for: reference)
        request.modelSource = reference.source
        return request
    }

    /// The plan of `--model` under the options: planned, or the file's own bits checked.
    func plan(for reference: ModelReference) throws -> BitWidthPlan {
        do {
            return try reference.plan(budget: budget(), scheme: quantizationScheme(for: reference),
                                      flavour: requantizationFlavour(for: reference))
        } catch {
            throw CommandFailure(error)
        }
    }
}
