import Deployment
import Diagnostics
import Foundation
import ONNXSchema

/// Initializers whose bytes sit in a file beside the model: ONNX's external data
/// (onnx/docs/ExternalData.md in the ONNX repository; `TensorProto.data_location = EXTERNAL`
/// with `external_data` entries `location`, `offset`, `length`). PyTorch's exporter writes the
/// weights of any model this way by default (`NAME.onnx` plus `NAME.onnx.data`).
enum ONNXExternalData {
    /// Reads every external initializer of `graph` into its `raw_data`. `location` must name a
    /// file in the model's folder (or below it), as ONNX's own checker requires; offsets and
    /// lengths are checked against that file's size.
    static func resolve(_ graph: inout Onnx_GraphProto, modelPath: String) throws(ImportError) {
        guard graph.initializer.contains(where: { $0.dataLocation == .external }) else { return }
        let folder = URL(fileURLWithPath: modelPath).deletingLastPathComponent()
        var files: [String: Data] = [:]
        for index in graph.initializer.indices where graph.initializer[index].dataLocation == .external {
            var tensor = graph.initializer[index]
            let name = ErrorText.quoted(tensor.name)
            var entries: [String: String] = [:]
            for entry in tensor.externalData { entries[entry.key] = entry.value }
            guard let location = entries["location"], !location.isEmpty, !location.hasPrefix("/"),
                  !location.split(separator: "/").contains("..") else {
                throw .badTensor(name: name, reason: "its external data location \(ErrorText.quoted(entries["location"] ?? "(none)")) "
                                 + "is not a file name relative to the model's folder")
            }
            let data: Data
            if let mapped = files[location] {
                data = mapped
            } else {
                let path = folder.appendingPathComponent(location).path
                do {
                    data = try InputFile.map(path)
                } catch {
                    throw .badTensor(name: name, reason: "its weights are stored in \(ErrorText.quoted(path)), which cannot be read "
                                     + "(\(error.reason)); keep the .data file the exporter wrote beside the model")
                }
                files[location] = data
            }
            let offset = entries["offset"].map { Int($0) } ?? 0
            let length = entries["length"].map { Int($0) } ?? offset.map { data.count - $0 }
            guard let offset, let length, offset >= 0, length >= 0, offset <= data.count, length <= data.count - offset else {
                throw .badTensor(name: name, reason: "its external data (offset \(ErrorText.quoted(entries["offset"] ?? "0")), length "
                                 + "\(ErrorText.quoted(entries["length"] ?? "to the end"))) lies outside \(ErrorText.quoted(location)) "
                                 + "of \(data.count) bytes")
            }
            tensor.rawData = data.subdata(in: data.startIndex + offset..<data.startIndex + offset + length)
            tensor.externalData = []
            tensor.clearDataLocation()
            graph.initializer[index] = tensor
        }
    }
}
