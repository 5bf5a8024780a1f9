import Deployment
import Foundation
import Planning

/// A labelled image set: a folder holding `images.npy` (`uint8`, `N x H x W x C`) and
/// `labels.npy` (integers, `N`); or the model's own input tensors, `inputs.npy` (`int8` or
/// `uint8`, N first, then the input's shape: MFCC features, sensor vectors, already quantized
/// images), fed as they are, with `labels.npy` optional; or an image folder in ImageNet's
/// layout (`ImageFolder`: one subfolder of JPEG/PNG files per class), decoded and preprocessed
/// to the network's input one image at a time (`ImagePreprocessing`).
///
/// The images stay in the mapped file: `image(_:)` copies out one image, so evaluating 5 images
/// of a 50,000-image set reads 5 images (and the labels), not the set.
public struct LabelledDataset: Sendable {
    /// The folder it was read from.
    public var path: String
    /// Image shape (HWC).
    public var shape: TensorShape
    /// One label per image; empty when the set has none (`inputs.npy` without `labels.npy`).
    public var labels: [Int]
    /// Images (or input tensors) in the set.
    public let count: Int
    /// Whether every image has a label (Top-1 and Top-5 need them).
    public var hasLabels: Bool { labels.count == count }
    /// The pixels, image after image: an array read from `images.npy` or `inputs.npy`, or bytes
    /// from memory.
    private var pixels: PixelSource

    enum PixelSource: Sendable {
        case array(NumPyArray)
        /// An `int8` array, returned as codes `q + 128`.
        case signedArray(NumPyArray)
        /// A `float32` array: a float-input model's inputs, quantized on the way in
        /// (`quantizingFloatInputs(with:)`).
        case floatArray(NumPyArray, TensorQuantization)
        case memory([UInt8])
        /// JPEG/PNG files, decoded when asked.
        case folder(ImageFolder)
    }

    /// Pixels per image (`shape.elementCount`, checked against overflow when the set was made).
    public let imageSize: Int

    /// The largest image accepted, in pixels (2^31: far beyond any microcontroller's memory),
    /// so that every offset computed from an image index fits an `Int`.
    public static let maximumImageSize = 1 << 31

    /// The bytes of image `index` (HWC); `index` must be below `count`.
    /// - Throws: `DatasetError` naming the file when an image folder's file cannot be read or
    ///   decoded (arrays in `.npy` files and memory never fail here).
    public func image(_ index: Int) throws(DatasetError) -> [UInt8] {
        let range = (index * imageSize)..<((index + 1) * imageSize)
        switch pixels {
        case .array(let array): return array.bytes(in: range)
        case .signedArray(let array): return array.signedByteCodes(in: range)
        case .floatArray(let array, let q):
            // TFLite's QUANTIZE: round(x / scale) in float32, half away from zero, + zero point, clamped.
            let scale = Float(q.scale)
            return array.floats(in: range).map { x in
                let r = (x / scale).rounded(.toNearestOrAwayFromZero)
                let code = r.isNaN ? 0 : Int(max(min(r, 1e6), -1e6)) + q.zeroPoint
                return UInt8(min(max(code, 0), q.bits.maxUnsigned))
            }
        case .memory(let bytes): return Array(bytes[range])
        case .folder(let folder): return try folder.image(index)
        }
    }

    /// Reads the folder `url`: the labels in full, the images mapped; for an image folder (no
    /// `images.npy` or `inputs.npy`, class subfolders), the list of files, preprocessed as
    /// `images` says when read.
    /// - Throws: `DatasetError` naming the file and what is wrong with it.
    public init(contentsOf url: URL, images: ImagePreprocessing? = nil) throws(DatasetError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .unreadable(path: url.path, reason: "not a folder; a dataset is a folder with images.npy and labels.npy, "
                              + "or one subfolder of JPEG/PNG files per class")
        }
        let imagesURL = url.appendingPathComponent("images.npy"), labelsURL = url.appendingPathComponent("labels.npy")
        let inputsURL = url.appendingPathComponent("inputs.npy")
        if FileManager.default.fileExists(atPath: inputsURL.path) {
            try self.init(inputs: inputsURL, labels: labelsURL, folder: url.path)
            return
        }
        if !FileManager.default.fileExists(atPath: imagesURL.path), try ImageFolder.visibleEntries(of: url).contains(where: {
            ImageFolder.isDirectory(url.appendingPathComponent($0).path)
        }) {
            guard let images else {
                throw .unreadable(path: url.path, reason: "an image folder needs the network's input size to preprocess its images to")
            }
            let folder = try ImageFolder(contentsOf: url, preprocessing: images)
            try self.init(path: url.path, shape: images.input, imageSize: try Self.imageSize(images.input, path: url.path),
                          pixels: .folder(folder), labels: folder.labels, count: folder.files.count)
            return
        }
        for file in [imagesURL, labelsURL] where !FileManager.default.fileExists(atPath: file.path) {
            throw .unreadable(path: file.path, reason: "missing; a dataset is a folder with images.npy and labels.npy, "
                              + "or one subfolder of JPEG/PNG files per class")
        }
        let images = try NumPyArray(contentsOf: imagesURL)
        let labels = try NumPyArray(contentsOf: labelsURL)
        guard images.isBytes, images.shape.count == 4 else {
            throw .badArray(path: imagesURL.path, reason: "images must be uint8 N x H x W x C, got \(images.dtype) \(images.shape)")
        }
        let shape = TensorShape(height: images.shape[1], width: images.shape[2], channels: images.shape[3])
        let imageSize = try Self.imageSize(shape, path: imagesURL.path)
        guard labels.shape.count == 1, labels.shape[0] == images.shape[0] else {
            throw .badArray(path: labelsURL.path, reason: "labels must have shape [\(images.shape[0])] (one per image), got \(labels.shape)")
        }
        try self.init(path: url.path, shape: shape, imageSize: imageSize, pixels: .array(images), labels: labels.values,
                      count: images.shape[0])
    }

    /// `inputs.npy` (the model's input tensors, N first) and an optional `labels.npy`.
    private init(inputs inputsURL: URL, labels labelsURL: URL, folder: String) throws(DatasetError) {
        let inputs = try NumPyArray(contentsOf: inputsURL)
        guard inputs.isOneByte || inputs.isFloat32, inputs.shape.count >= 2, inputs.shape.count <= 4 else {
            throw .badArray(path: inputsURL.path, reason: "inputs must be int8, uint8 or float32 with N first, then [H, W, C], [W, C] or [C] "
                            + "(the model's input tensor); got \(inputs.dtype) \(inputs.shape)")
        }
        let dims = Array(inputs.shape.dropFirst())
        let shape = dims.count == 3 ? TensorShape(height: dims[0], width: dims[1], channels: dims[2])
            : dims.count == 2 ? TensorShape(height: 1, width: dims[0], channels: dims[1])
            : TensorShape(height: 1, width: 1, channels: dims[0])
        let imageSize = try Self.imageSize(shape, path: inputsURL.path)
        var labels: [Int] = []
        if FileManager.default.fileExists(atPath: labelsURL.path) {
            let array = try NumPyArray(contentsOf: labelsURL)
            guard array.shape.count == 1, array.shape[0] == inputs.shape[0] else {
                throw .badArray(path: labelsURL.path, reason: "labels must have shape [\(inputs.shape[0])] (one per input), got \(array.shape)")
            }
            labels = array.values
        }
        // Float inputs wait for the model's input quantization (`quantizingFloatInputs(with:)`).
        let source: PixelSource = inputs.isBytes ? .array(inputs)
            : inputs.isFloat32 ? .floatArray(inputs, TensorQuantization(scale: 1, zeroPoint: 0, bits: .eight)) : .signedArray(inputs)
        try self.init(path: folder, shape: shape, imageSize: imageSize, pixels: source, labels: labels, count: inputs.shape[0])
        inputType = inputs.isBytes ? "uint8" : inputs.isFloat32 ? "float32" : "int8"
    }

    /// The set with float inputs quantized as `quantization` says (a float-input TFLite file's
    /// QUANTIZE); any other set unchanged.
    public func quantizingFloatInputs(with quantization: TensorQuantization) -> LabelledDataset {
        guard case .floatArray(let array, _) = pixels else { return self }
        var copy = self
        copy.pixels = .floatArray(array, quantization)
        return copy
    }

    /// What the images are: `"images"` (uint8 pixels the model's input encoding turns into codes),
    /// or `"int8"`/`"uint8"` for `inputs.npy`, the model's own input tensors, fed as they are.
    public private(set) var inputType = "images"

    /// The image folder the set reads, when it is one.
    public var imageFolder: ImageFolder? {
        if case .folder(let folder) = pixels { return folder }
        return nil
    }

    /// A dataset from memory (tests, generated sets).
    public init(path: String, shape: TensorShape, pixels: [UInt8], labels: [Int]) throws(DatasetError) {
        let imageSize = try Self.imageSize(shape, path: path)
        guard imageSize.multipliedReportingOverflow(by: labels.count) == (pixels.count, false) else {
            throw .badArray(path: path, reason: "\(pixels.count) pixel bytes for \(labels.count) images of \(shape)")
        }
        try self.init(path: path, shape: shape, imageSize: imageSize, pixels: .memory(pixels), labels: labels, count: labels.count)
    }

    private init(path: String, shape: TensorShape, imageSize: Int, pixels: PixelSource, labels: [Int], count: Int) throws(DatasetError) {
        if let bad = labels.firstIndex(where: { $0 < 0 }) {
            throw .badArray(path: path, reason: "label \(labels[bad]) of image \(bad) is negative")
        }
        self.path = path
        self.shape = shape
        self.imageSize = imageSize
        self.pixels = pixels
        self.labels = labels
        self.count = count
    }

    /// Pixels of one image of `shape`, refused when a dimension is 0 or the product is too large.
    static func imageSize(_ shape: TensorShape, path: String) throws(DatasetError) -> Int {
        let dimensions = [shape.height, shape.width, shape.channels]
        guard dimensions.allSatisfy({ $0 > 0 }) else {
            throw .badArray(path: path, reason: "images of \(shape) pixels: every image dimension must be at least 1")
        }
        guard let size = NumPyArray.product(dimensions), size <= maximumImageSize else {
            throw .badArray(path: path, reason: "images of \(dimensions.map(String.init).joined(separator: "x")) pixels are too large "
                            + "(at most \(maximumImageSize) pixels an image)")
        }
        return size
    }
}

extension DeploymentRequest {
    /// Images a float model's activation ranges are calibrated on when nothing else is said:
    /// the first ones of the dataset.
    public static let defaultCalibrationImages = 32

    /// Calibrates on the first `images` images of `dataset` when the model states no
    /// quantization of its own (a float model) and the images fit the network; otherwise
    /// leaves the request as it is (a QONNX file's ranges are its own).
    /// - Throws: `DatasetError` when an image folder's file cannot be decoded.
    public mutating func calibrate(on dataset: LabelledDataset, images: Int = defaultCalibrationImages) throws(DatasetError) {
        // A file's stated ranges need no calibration, unless MixQ re-quantizes the file.
        let requantizes = model?.quantization.map { Deployer.usesMixQArithmetic($0, scheme: scheme, flavour: flavour) } ?? true
        guard requantizes, dataset.shape == network.input else { return }
        calibration = try (0..<min(images, dataset.count)).map { index throws(DatasetError) in try dataset.image(index) }
    }
}

/// Why a dataset cannot be used.
public enum DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case badArray(path: String, reason: String)
    /// A file of an image folder that cannot be decoded.
    case badImage(path: String, reason: String)
    /// The images do not have the network's input shape, or labels exceed its classes.
    case doesNotMatch(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .badArray(let path, let reason): return "\(path): \(reason)"
        case .badImage(let path, let reason): return "cannot decode \(path): \(reason)"
        case .doesNotMatch(let reason): return reason
        }
    }
}
