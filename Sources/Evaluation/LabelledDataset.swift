import Deployment
import Foundation
import Planning

/// A labelled image set: a folder holding `images.npy` (`uint8`, `N x H x W x C`) and
/// `labels.npy` (integers, `N`).
public struct LabelledDataset: Sendable {
    /// The folder it was read from.
    public var path: String
    /// Image shape (HWC).
    public var shape: TensorShape
    /// Image `i` occupies `pixels[i * shape.elementCount ..< (i + 1) * shape.elementCount]`.
    public var pixels: [UInt8]
    public var labels: [Int]

    public var count: Int { labels.count }

    /// The bytes of image `index` (HWC).
    public func image(_ index: Int) -> [UInt8] {
        let size = shape.elementCount
        return Array(pixels[(index * size)..<((index + 1) * size)])
    }

    /// Reads the folder `url`.
    /// - Throws: `DatasetError` naming the file and what is wrong with it.
    public init(contentsOf url: URL) throws(DatasetError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .unreadable(path: url.path, reason: "not a folder; a dataset is a folder with images.npy and labels.npy")
        }
        let imagesURL = url.appendingPathComponent("images.npy"), labelsURL = url.appendingPathComponent("labels.npy")
        for file in [imagesURL, labelsURL] where !FileManager.default.fileExists(atPath: file.path) {
            throw .unreadable(path: file.path, reason: "missing; a dataset is a folder with images.npy and labels.npy")
        }
        let images = try NumPyArray(contentsOf: imagesURL)
        let labels = try NumPyArray(contentsOf: labelsURL)
        guard let bytes = images.bytes, images.shape.count == 4 else {
            throw .badArray(path: imagesURL.path, reason: "images must be uint8 N x H x W x C, got \(images.dtype) \(images.shape)")
        }
        guard labels.shape.count == 1, labels.shape[0] == images.shape[0] else {
            throw .badArray(path: labelsURL.path, reason: "labels must have shape [\(images.shape[0])] (one per image), got \(labels.shape)")
        }
        try self.init(path: url.path, shape: TensorShape(height: images.shape[1], width: images.shape[2], channels: images.shape[3]),
                      pixels: bytes, labels: labels.values)
    }

    /// A dataset from memory (tests, generated sets).
    public init(path: String, shape: TensorShape, pixels: [UInt8], labels: [Int]) throws(DatasetError) {
        guard pixels.count == shape.elementCount * labels.count else {
            throw .badArray(path: path, reason: "\(pixels.count) pixel bytes for \(labels.count) images of \(shape)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 }) {
            throw .badArray(path: path, reason: "label \(labels[bad]) of image \(bad) is negative")
        }
        self.path = path
        self.shape = shape
        self.pixels = pixels
        self.labels = labels
    }
}

extension DeploymentRequest {
    /// Images a float model's activation ranges are calibrated on when nothing else is said:
    /// the first ones of the dataset.
    public static let defaultCalibrationImages = 32

    /// Calibrates on the first `images` images of `dataset` when the model states no
    /// quantization of its own (a float model) and the images fit the network; otherwise
    /// leaves the request as it is (a QONNX file's ranges are its own).
    public mutating func calibrate(on dataset: LabelledDataset, images: Int = defaultCalibrationImages) {
        guard model?.quantization == nil, dataset.shape == network.input else { return }
        calibration = (0..<min(images, dataset.count)).map { dataset.image($0) }
    }
}

/// Why a dataset cannot be used.
public enum DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case badArray(path: String, reason: String)
    /// The images do not have the network's input shape, or labels exceed its classes.
    case doesNotMatch(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .badArray(let path, let reason): return "\(path): \(reason)"
        case .doesNotMatch(let reason): return reason
        }
    }
}
