import Emulator
import Testing

/// Firmware output is bounded: the tail `RunResult` keeps never exceeds
/// `RunOptions.outputTailBytes`, and `RunOptions.maxOutputBytes` ends a run that prints forever
/// on every channel (SYS_WRITE, SYS_WRITE0, ITM stimulus port 0). Firmware:
/// firmware/tests/output_flood.c, whose output is a repeating 64-byte line.
@Suite struct OutputTests {
    /// The flood pattern: 63 characters and a newline, repeated.
    static let line = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\n".utf8)

    private func flood(mode: Int, options: RunOptions, blocks: Int = 0) throws -> Result<RunResult, EmulatorError> {
        let image = try FirmwareFixtures.image("output_flood", defines: ["FLOOD_MODE=\(mode)", "FLOOD_BLOCKS=\(blocks)"])
        do {
            return .success(try Machine(part: .stm32h743).run(image, options: options))
        } catch let error as EmulatorError {
            return .failure(error)
        }
    }

    @Test func onlyTheTailOfALongOutputIsKept() throws {
        // 768 writes of 4 KiB = 3 MiB printed; keep the last 10,000 bytes.
        let outcome = try flood(mode: 4, options: RunOptions(outputTailBytes: 10_000), blocks: 768)
        let result = try outcome.get()
        #expect(result.exitStatus == 0)
        #expect(result.stdoutBytes == 768 * 4096)
        let tail = Array(result.stdout.utf8)
        #expect(tail.count == 10_000)
        // The output ends on a line boundary (3 MiB is a multiple of 64), so its last 10,000
        // bytes start 10,000 mod 64 = 16 bytes before the end of a line.
        let expected = (0..<10_000).map { Self.line[(64 - 10_000 % 64 + $0) % 64] }
        #expect(tail == expected)
    }

    @Test(arguments: [(0, "SYS_WRITE"), (1, "SYS_WRITE0"), (2, "ITM port 0")])
    func printingForeverStopsAtTheOutputLimit(mode: Int, channel: String) throws {
        let limit: UInt64 = 300_000
        let outcome = try flood(mode: mode, options: RunOptions(maxInstructions: 200_000_000, maxOutputBytes: limit))
        guard case let .failure(error) = outcome, case let .outputLimitExceeded(reported, _, function) = error else {
            Issue.record("\(channel): expected the output limit to stop the run, got \(outcome)")
            return
        }
        #expect(reported == limit)
        #expect(function != nil, "the stop names where the firmware was")
        #expect(error.description.contains("--max-output"))
    }

    @Test func outputWithinTheLimitIsUntouched() throws {
        let result = try FirmwareFixtures.run("hello", options: RunOptions(maxOutputBytes: 1000, outputTailBytes: 1000))
        #expect(result.stdout.hasPrefix("Hello from the emulated STM32H743!\n"))
        #expect(result.stdoutBytes == UInt64(result.stdout.utf8.count))
    }
}
