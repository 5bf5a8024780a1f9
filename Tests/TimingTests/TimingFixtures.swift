import Emulator
import FirmwareBuild
import Foundation
import Timing

/// Builds firmware from `firmware/bench` (content-keyed cache) and runs it with a cycle model.
enum TimingFixtures {
    static func image(_ name: String, defines: [String] = []) throws -> ELFImage {
        let built = try Toolchain.locate().build(.benchmark(name, defines: defines))
        return try ELFImage(contentsOf: built.elf)
    }

    static func run(_ name: String, timing: TimingMode, clockMHz: Int = 400, defines: [String] = []) throws -> RunResult {
        try Machine(part: .stm32h743).run(image(name, defines: defines),
                                          options: RunOptions(clockMHz: clockMHz, timing: timing))
    }

    /// `key value` lines printed by the firmware (`rule alu_pairs 1000` -> ["alu_pairs": 1000]).
    static func values(in output: String, prefix: String) -> [String: Int] {
        var values: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 3, fields[0] == prefix, let value = Int(fields[2]) {
                values[String(fields[1])] = value
            }
        }
        return values
    }
}
