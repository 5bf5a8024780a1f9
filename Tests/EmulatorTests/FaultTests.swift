import Emulator
import Testing

/// Every fault kind the emulator reports (unmapped access, FLASH write, undefined instruction,
/// hard fault, stack overflow) becomes an `EmulatorError` naming the PC, the function,
/// the address and the region, never a crash. Expected functions come from the firmware sources.
@Suite struct FaultTests {
    private func fault(_ program: String) throws -> Fault {
        let error = try FirmwareFixtures.runExpectingError(program)
        guard case let .fault(fault) = error else {
            Issue.record("expected a fault from \(program), got: \(error)")
            throw error
        }
        return fault
    }

    @Test func unmappedRead() throws {
        let image = try FirmwareFixtures.image("fault_unmapped_read")
        let load = try #require(image.symbol(named: "faulting_load"))
        let fault = try fault("fault_unmapped_read")
        #expect(fault.pc == load.address, "the exact load, not the start of its block")
        #expect(fault.kind == .unmappedRead)
        #expect(fault.address == 0x6000_0000)
        #expect(fault.region == nil)
        #expect(fault.function?.hasPrefix("read_external_bus") == true)
        #expect(fault.pcRegion == "FLASH")
        print(fault)
    }

    @Test func unmappedWrite() throws {
        let image = try FirmwareFixtures.image("fault_unmapped_write")
        let store = try #require(image.symbol(named: "faulting_store"))
        let fault = try fault("fault_unmapped_write")
        #expect(fault.pc == store.address, "the exact store, not the start of its block")
        #expect(fault.kind == .unmappedWrite)
        #expect(fault.address == 0x9000_0010)
        #expect(fault.function?.hasPrefix("write_quadspi_window") == true)
        print(fault)
    }

    @Test func flashWrite() throws {
        let image = try FirmwareFixtures.image("fault_flash_write")
        let table = try #require(image.symbol(named: "calibration_table"))
        let fault = try fault("fault_flash_write")
        #expect(fault.kind == .flashWrite)
        #expect(fault.address == table.address + 8)
        #expect(fault.region == "FLASH")
        #expect(fault.function?.hasPrefix("patch_table") == true)
        print(fault)
    }

    @Test func undefinedInstruction() throws {
        let image = try FirmwareFixtures.image("fault_undefined")
        let function = try #require(image.symbol(named: "run_undefined"))
        let fault = try fault("fault_undefined")
        #expect(fault.kind == .undefinedInstruction)
        #expect(fault.function?.hasPrefix("run_undefined") == true)
        // UDF is the first instruction of run_undefined (no prologue needed).
        #expect(fault.pc == function.address)
        print(fault)
    }

    @Test func branchToArmStateIsAUsageFaultINVSTATE() throws {
        let fault = try fault("fault_invstate")
        #expect(fault.kind == .usageFault(.invalidState, instruction: ""))
        #expect(fault.description.contains("UsageFault INVSTATE (CFSR bit 17)"))
        // The fault is taken at the branch target, as on hardware.
        #expect(fault.function?.hasPrefix("target") == true)
        print(fault)
    }

    @Test func stackOverflow() throws {
        let fault = try fault("fault_stack_overflow")
        #expect(fault.kind == .stackOverflow)
        #expect(fault.function?.hasPrefix("recurse") == true)
        print(fault)
    }

    @Test func neverEndingFirmwareStopsAtTheBudget() throws {
        let error = try FirmwareFixtures.runExpectingError("never_ends", options: RunOptions(maxInstructions: 2_000_000))
        guard case let .instructionBudgetExhausted(budget, _, function) = error else {
            Issue.record("expected the budget stop, got \(error)")
            return
        }
        #expect(budget == 2_000_000)
        #expect(function?.hasPrefix("spin_forever") == true)
        #expect(error.description.contains("--max-instructions"))
        print(error)
    }
}
