import ArgumentParser
import Evaluation
import Planning

/// `--resize`: how an image-folder `--dataset` (one subfolder of JPEG/PNG files per class) is
/// preprocessed to the network's input (`ImagePreprocessing`).
struct ImageFolderOptions: ParsableArguments {
    @Option(help: ArgumentHelp("For an image-folder --dataset (one subfolder of JPEG/PNG files per class): scale each image's shorter side to N pixels (antialiased bilinear), then crop the centre to the network's input, e.g. 256 for a 224 input trained the ImageNet way. Default: the input's larger side.", valueName: "N"))
    var resize: Int?

    func validate() throws {
        if let resize, !(1...65536).contains(resize) { throw ValidationError("--resize must be 1...65536, got \(resize)") }
    }

    /// The preprocessing for a network taking `input`.
    func preprocessing(for input: TensorShape) throws -> ImagePreprocessing {
        try Self.preprocessing(for: input, resize: resize)
    }

    static func preprocessing(for input: TensorShape, resize: Int?) throws -> ImagePreprocessing {
        do {
            return try ImagePreprocessing(input: input, resize: resize)
        } catch {
            throw CommandFailure(error)
        }
    }
}
