import Emulator
import Testing

/// UsageFaults the ARMv7-M ARM prescribes and Unicorn does not raise (A3.2.1 "Alignment
/// behavior", B3.2.8 CCR, B3.2.20 CPACR): each becomes `FaultKind.usageFault` with the CFSR bit,
/// the exact PC (the `faulting_instruction` label of firmware/tests/fault_usage.c), the function
/// and the address touched; firmware/tests/usage_no_fault.c runs the same instructions where a
/// Cortex-M7 does not fault and must print exactly what the hardware computes.
@Suite struct UsageFaultTests {
    /// FAULT_CASE of fault_usage.c, the instruction, the cause, and whether an address is named.
    static let cases: [(Int, String, UsageFault, Bool)] = [
        (1, "LDRD", .unaligned, true), (2, "STRD", .unaligned, true), (3, "LDM", .unaligned, true),
        (4, "STM", .unaligned, true), (5, "LDREX", .unaligned, true), (6, "STREX", .unaligned, true),
        (7, "VLDR", .unaligned, true), (8, "LDREXH", .unaligned, true), (9, "LDR", .unaligned, true),
        (10, "STRH", .unaligned, true), (11, "SDIV", .divideByZero, false), (12, "UDIV", .divideByZero, false),
        (13, "floating-point instruction", .noCoprocessor, false), (14, "LDR", .unaligned, true),
        (15, "LDRD", .unaligned, true),
    ]

    @Test(arguments: Self.cases.flatMap { c in ["off", "pipeline"].map { (c, $0) } })
    func faultIsTheUsageFaultTheArchitecturePrescribes(_ item: ((Int, String, UsageFault, Bool), String)) throws {
        let ((number, instruction, cause, touchesMemory), timing) = item
        let image = try FirmwareFixtures.image("fault_usage", defines: ["FAULT_CASE=\(number)"])
        let site = try #require(image.symbol(named: "faulting_instruction"))
        let target = try #require(image.symbol(named: "unaligned_target"))
        let options = RunOptions(timing: timing == "off" ? .off : .pipeline)
        let error: EmulatorError
        do {
            let result = try Machine(part: .stm32h743).run(image, options: options)
            Issue.record("case \(number) \(instruction): ran to completion, output \(result.stdout)")
            return
        } catch let caught as EmulatorError {
            error = caught
        }
        guard case let .fault(fault) = error else {
            Issue.record("case \(number) \(instruction): expected a fault, got \(error)")
            return
        }
        #expect(fault.kind == .usageFault(cause, instruction: instruction), "case \(number): \(fault)")
        #expect(fault.pc == site.address, "case \(number): the exact instruction")
        #expect(fault.function?.hasPrefix("usage_fault_site") == true)
        #expect(fault.address == (touchesMemory ? target.address + 1 : nil))
        #expect(error.description.contains("UsageFault \(cause.rawValue) (CFSR bit \(cause.cfsrBit))"))
        #expect(!error.description.contains("HardFault"))
    }

    @Test func trapSetAfterTheCodeRanAppliesToIt() throws {
        // Case 14 runs the unaligned LDR once without UNALIGN_TRP (no fault), then sets it: the
        // block, translated already, must be checked from then on.
        let image = try FirmwareFixtures.image("fault_usage", defines: ["FAULT_CASE=14"])
        let flag = try #require(image.symbol(named: "first_call_done"))
        let machine = try Machine(part: .stm32h743)
        do {
            _ = try machine.run(image)
            Issue.record("ran to completion")
        } catch let EmulatorError.fault(fault) {
            #expect(fault.kind == .usageFault(.unaligned, instruction: "LDR"))
        }
        #expect(try machine.readMemory(at: flag.address, count: 4) == [1, 0, 0, 0], "the first call ran without a fault")
    }

    @Test(arguments: ["off", "pipeline", "full"])
    func instructionsThatDoNotFaultComputeWhatTheHardwareComputes(timing: String) throws {
        let mode: RunOptions = RunOptions(timing: timing == "off" ? .off : timing == "pipeline" ? .pipeline : .full)
        let result = try FirmwareFixtures.run("usage_no_fault", options: mode)
        #expect(result.stdout == """
            aligned 0x04030201 0x08070605 0x08070605 ok
            unaligned-ldr 0x05040302 0x0302
            div-by-zero 0 0
            it-skipped 7
            div-trap-nonzero -3 14
            counter 1000

            """)
        #expect(result.exitStatus == 0)
    }

    @Test func cfsrBitsAreTheArchitecturesOnes() {
        // ARMv7-M ARM B3.2.15: UFSR is CFSR[31:16]; UNDEFINSTR 16, INVSTATE 17, NOCP 19,
        // UNALIGNED 24, DIVBYZERO 25.
        #expect([UsageFault.undefinedInstruction, .invalidState, .noCoprocessor, .unaligned, .divideByZero].map(\.cfsrBit)
                == [16, 17, 19, 24, 25])
    }
}
