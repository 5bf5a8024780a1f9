import ArgumentParser
import Emulator
import FirmwareBuild
import Foundation
import Timing

/// `mixq demo`: builds the bundled demo firmware (an int8 pointwise convolution timed with
/// DWT->CYCCNT, firmware/demo/demo.c), runs it on the emulated STM32H743 and shows what it
/// printed, the cycles and the memory it uses, with the conditions of the run.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build and run the bundled demo firmware; print its output, cycles and memory."
    )

    @Option(name: .customLong("clock-mhz"), help: ArgumentHelp(SharedOption.clockHelp))
    var clockMHz: Int = 400

    @Option(help: ArgumentHelp(SharedOption.timingHelp))
    var timing: TimingMode = .pipeline

    func validate() throws {
        try SharedOption.validateClock(clockMHz)
    }

    func run() throws {
        let toolchain = try Toolchain.locate()
        let built = try toolchain.build(FirmwareSpec(name: "demo", sources: ["demo/demo.c"]))
        print("firmware: firmware/demo/demo.c -> \(built.elf.path)\(built.fromCache ? " (cached)" : "")")
        print("compiler: \(toolchain.conditions)")
        let image = try ELFImage(contentsOf: built.elf)
        print("\n--- firmware output ---")
        fflush(nil)  // flush Swift's buffered stdout: the firmware's output goes straight to the descriptor
        let result = try Machine(part: .stm32h743).run(image, options: RunOptions(clockMHz: clockMHz, echoOutput: true, timing: timing))
        ConsoleEcho.finishLine()  // the firmware's last line may lack its newline
        print("--- end of output ---\n")
        print(result.summaryLine)
        print("")
        print(SizeTable.render(SizeReport(image: image, part: .stm32h743)))
        if let note = FirmwareExitStatus.note(for: result.exitStatus) { ConsoleEcho.printLine(note) }
        if result.exitStatus != 0 { throw ExitCode(FirmwareExitStatus.processCode(for: result.exitStatus)) }
    }
}
