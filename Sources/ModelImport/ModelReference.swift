import Deployment
import Foundation
import struct TFLiteSchema.TFLiteModel
import Planning
import Quantization

/// What `--model` names: a built-in network (MobilenetV1 family, the digit family) with
/// synthetic weights, or a model file (ONNX, QONNX) with its trained weights.
public struct ModelReference: Sendable {
    /// The network to plan and deploy.
    public var network: Network
    /// The file's weights (and quantization); nil for a built-in name.
    public var model: FloatModel?
    /// The imported file, when `--model` named one.
    public var imported: ImportedModel?

    /// Resolves `name`: a path (it ends in `.onnx` or names an existing file) is imported, a
    /// trained example's name (`TrainedExamples`) imports its file, anything else must be a
    /// built-in name.
    /// - Throws: `ImportError` for a bad file, `ModelNameError` listing the valid names.
    public init(_ name: String, inputMean: Double? = nil, inputScale: Double? = nil) throws {
        let file = Self.isFile(name) ? URL(fileURLWithPath: name) : TrainedExamples.file(named: name)
        if let file {
            let imported = try ModelFile.load(file, inputMean: inputMean, inputScale: inputScale)
            self.network = imported.network
            self.model = imported.model
            self.imported = imported
        } else {
            do {
                network = try BuiltInModels.network(named: name)
            } catch let error as ModelNameError {
                throw ModelNameError(name: error.name, validNames: error.validNames + TrainedExamples.all.map(\.name)
                                     + ["or a path to an .onnx or .tflite file"])
            }
            model = nil
            imported = nil
        }
    }

    /// Whether `name` names a model: a file, a trained example or a built-in network.
    public static func isKnown(_ name: String) -> Bool {
        isFile(name) || TrainedExamples.file(named: name) != nil || BuiltInModels.names.contains(name)
    }

    /// Whether `name` is meant as a file rather than a built-in name.
    public static func isFile(_ name: String) -> Bool {
        name.lowercased().hasSuffix(".onnx") || name.lowercased().hasSuffix(".tflite") || name.contains("/")
            || FileManager.default.fileExists(atPath: name)
    }

    /// The scheme to use when the user names none: the file's own (per-channel weights:
    /// `mixpc`; per tensor: `mixpl`) for a QONNX file, `mixpc` otherwise.
    public var defaultScheme: QuantizationScheme { model?.quantization?.naturalScheme ?? .mixpc }

    /// The flavour used when the user names none. For a QDQ file with per-tensor weights,
    /// PL+ICN: the file's weight codes are kept and a batch norm the exporter left (folded by the
    /// importer) goes into the per-channel multipliers, where the `int8` rule's PL+FB would fold
    /// it into the weights and quantize them anew. Otherwise nil, so the scheme's rule decides
    /// (see `TrainedQuantization.naturalScheme` for what that means for a QONNX file).
    public var defaultFlavour: RequantizationFlavour? {
        guard imported?.format == "ONNX QDQ", let trained = model?.quantization, !trained.isPerChannel else { return nil }
        return .perLayerICN
    }

    /// Where the weights came from, for the results' conditions (`deploy` and `eval` print it):
    /// the file, for a QDQ file how its results compare with onnxruntime's, and what the
    /// importer folded to read it (`ImportedModel.folded`).
    public var source: String? {
        imported.map { "\($0.format) file \($0.path)" + ($0.format == "ONNX QDQ" ? " (\($0.detail))" : "")
            + ($0.folded.isEmpty ? "" : " (folded: \($0.folded.joined(separator: "; ")))") }
    }

    /// Plans the network: the planner for built-in and float models, a check of the file's own
    /// bits for a QONNX model.
    public func plan(budget: MemoryBudget, scheme: QuantizationScheme, flavour: RequantizationFlavour?) throws -> BitWidthPlan {
        try Deployer.plan(network, model: model, budget: budget, scheme: scheme, flavour: flavour)
    }
}

/// A model file of any format MixQ reads, recognised by its content rather than its name.
public enum ModelFile {
    /// Reads `url` as TFLite when its bytes carry the TFLite file identifier, as ONNX/QONNX
    /// otherwise. `inputMean` and `inputScale` apply to ONNX files (a TFLite file states its
    /// input's quantization).
    public static func load(_ url: URL, inputMean: Double? = nil, inputScale: Double? = nil) throws -> ImportedModel {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImportError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        if TFLiteModel.looksLikeTFLite(data.prefix(8)) {
            return try TFLiteImporter.importModel(bytes: [UInt8](data), path: url.path)
        }
        return try ONNXImporter.load(data: data, path: url.path, name: url.deletingPathExtension().lastPathComponent,
                                     inputMean: inputMean, inputScale: inputScale)
    }
}
