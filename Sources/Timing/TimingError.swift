/// Why the cycle model could not be set up.
public enum TimingError: Error, CustomStringConvertible, Sendable {
    /// Capstone could not be opened (a broken libcapstone installation).
    case decoderUnavailable(message: String)

    public var description: String {
        switch self {
        case let .decoderUnavailable(message):
            return "cannot open the Capstone disassembler for the cycle model (\(message)); reinstall libcapstone4 or run with --timing off"
        }
    }
}
