import Emulator
import Testing
import Timing

/// `DebugSession` without GDB: breakpoints, steps, registers, memory, stops, and counts that
/// match a free run (docs/debugging.md). Values come from firmware/tests/gdb_target.c.
@Suite struct DebugSessionTests {
    static let expectedOutput = "sum 42 counter 10 float 3.75\n"

    static func session(_ program: String, timing: TimingMode = .pipeline) throws -> (DebugSession, ELFImage) {
        let image = try FirmwareFixtures.image(program)
        return (try DebugSession(machine: Machine(), image: image, options: RunOptions(timing: timing)), image)
    }

    static func address(_ name: String, in image: ELFImage) throws -> UInt32 {
        try #require(image.symbol(named: name)).address & ~1
    }

    @Test(arguments: [TimingMode.off, .pipeline, .full])
    func breakpointsStopAtTheirAddressAndKeepCountsExact(timing: TimingMode) throws {
        let free = try FirmwareFixtures.run("gdb_target", options: RunOptions(timing: timing))
        let (session, image) = try Self.session("gdb_target", timing: timing)
        let addNumbers = try Self.address("add_numbers", in: image)
        let bump = try Self.address("bump", in: image)
        try session.insertBreakpoint(at: addNumbers)
        try session.insertBreakpoint(at: bump, kind: .hardware)
        #expect(session.resume() == .breakpoint(address: addNumbers))
        #expect(session.programCounter == addNumbers)
        #expect(session.readRegister(.core(0)) == 20 && session.readRegister(.core(1)) == 22)
        var bumps = 0
        while case .breakpoint(bump) = session.resume() { bumps += 1 }
        #expect(bumps == 10)
        #expect(session.lastStop == .exited(status: 7))
        let progress = session.progress
        #expect(progress.stdout == Self.expectedOutput)
        #expect(progress.instructions == free.instructions, "breakpoints neither add nor lose instructions")
        // Breakpoints at function entries start translated blocks, so off and pipeline count
        // exactly; stepping over them splits blocks, which the full model's fetch and cache
        // accounting sees (docs/debugging.md: 34757 against 34579 cycles, +0.5%).
        if timing == .full {
            #expect(Double(progress.cycles) <= Double(free.cycles) * 1.01 && progress.cycles >= free.cycles,
                    "\(progress.cycles) cycles under breakpoints, \(free.cycles) free")
        } else {
            #expect(progress.cycles == free.cycles, "\(timing): \(progress.cycles) cycles under breakpoints, \(free.cycles) free")
        }
    }

    @Test(arguments: [TimingMode.off, .pipeline])
    func steppingTheWholeProgramMatchesAFreeRun(timing: TimingMode) throws {
        let free = try FirmwareFixtures.run("gdb_target", options: RunOptions(timing: timing))
        let (session, _) = try Self.session("gdb_target", timing: timing)
        var steps = 0
        var stop = DebugStopReason.stepped
        while stop == .stepped && steps < 100_000 {
            stop = session.step()
            steps += 1
        }
        #expect(stop == .exited(status: 7))
        #expect(session.progress.stdout == Self.expectedOutput)
        #expect(session.instructions == free.instructions)
        // IT blocks step as one unit, so there are fewer steps than instructions.
        #expect(steps <= Int(free.instructions) && steps > Int(free.instructions) * 9 / 10)
        print("DebugSessionTests: \(timing): \(steps) steps; stepped \(session.cycles) cycles, free run \(free.cycles) cycles, "
              + "\(free.instructions) instructions; conditions: \(free.conditions)")
    }

    @Test func removedBreakpointsNoLongerStop() throws {
        let (session, image) = try Self.session("gdb_target")
        let bump = try Self.address("bump", in: image)
        try session.insertBreakpoint(at: bump)
        #expect(session.resume() == .breakpoint(address: bump))
        #expect(session.removeBreakpoint(at: bump))
        #expect(!session.removeBreakpoint(at: bump))
        #expect(session.resume() == .exited(status: 7))
    }

    /// Many breakpoints: the session keeps their addresses sorted by binary insertion (it
    /// resorted them on every insert: 20,000 took 29 s) and refuses more than
    /// `maximumBreakpoints`, since Unicorn's hook removal is quadratic. The run stops at the
    /// real one and not at the others, which lie in unused FLASH.
    @Test func breakpointsUpToTheLimitInsertAndRemoveInAnyOrder() throws {
        let (session, image) = try Self.session("gdb_target")
        let bump = try Self.address("bump", in: image)
        let base: UInt32 = 0x0810_0000
        let count = DebugSession.maximumBreakpoints - 1
        let offsets = (0..<count).map { UInt32(($0 * 2_557) % count) * 2 }
        for offset in offsets { try session.insertBreakpoint(at: base + offset) }
        try session.insertBreakpoint(at: bump)
        #expect(throws: DebugSessionError.tooManyBreakpoints(limit: DebugSession.maximumBreakpoints)) {
            try session.insertBreakpoint(at: base + 0x10_0000)
        }
        try session.insertBreakpoint(at: bump)  // already there: not refused
        #expect(session.breakpointAddresses.count == DebugSession.maximumBreakpoints)
        #expect(session.resume() == .breakpoint(address: bump))
        for offset in offsets.reversed() { #expect(session.removeBreakpoint(at: base + offset)) }
        #expect(session.breakpointAddresses == [bump])
        #expect(session.removeBreakpoint(at: bump))
        #expect(session.resume() == .exited(status: 7))
    }

    @Test func writeWatchpointsStopAfterEachStore() throws {
        let (session, image) = try Self.session("gdb_target")
        let counter = try #require(image.symbol(named: "counter")).address
        try session.insertWatchpoint(at: counter, length: 4, kind: .write)
        var hits = 0
        while case let .watchpoint(address, kind) = session.resume() {
            #expect(address == counter && kind == .write)
            let value = try session.readMemory(at: counter, count: 4)
            #expect(value == [UInt8(hits), 0, 0, 0], "the store has happened when the session stops")
            hits += 1
        }
        #expect(hits == 11, "the start-up code zeroes .bss (counter = 0), then bump() stores 1...10")
        #expect(session.lastStop == .exited(status: 7))
    }

    @Test func registerAndMemoryWritesChangeTheResult() throws {
        let (session, image) = try Self.session("gdb_target")
        try session.insertBreakpoint(at: Self.address("add_numbers", in: image))
        _ = session.resume()
        try session.writeRegister(.core(0), 100)
        let status = try #require(image.symbol(named: "exit_status")).address
        try session.writeMemory([9, 0, 0, 0], at: status)
        #expect(try session.readMemory(at: status, count: 4) == [9, 0, 0, 0])
        #expect(session.resume() == .exited(status: 9))
        #expect(session.progress.stdout == "sum 122 counter 10 float 3.75\n")
    }

    @Test func flashIsWritableFromTheDebugger() throws {
        let (session, _) = try Self.session("gdb_target")
        let address: UInt32 = 0x0810_0000  // unused FLASH
        try session.writeMemory([1, 2, 3, 4], at: address)
        #expect(try session.readMemory(at: address, count: 4) == [1, 2, 3, 4])
        #expect(throws: DebugSessionError.self) { try session.writeMemory([0], at: 0x6000_0000) }
    }

    @Test func floatingPointRegisters() throws {
        let (session, image) = try Self.session("gdb_target")
        try session.insertBreakpoint(at: Self.address("scale_float", in: image))
        _ = session.resume()
        // s0 = 1.5f is the low half of d0.
        #expect(Float(bitPattern: UInt32(truncatingIfNeeded: session.readRegister(.double(0)))) == 1.5)
        try session.writeRegister(.double(0), UInt64(Float(4).bitPattern))
        #expect(session.resume() == .exited(status: 7))
        #expect(session.progress.stdout == "sum 42 counter 10 float 10.00\n")
    }

    @Test func interruptsStopEndlessLoopsAndFaultsStayFinal() throws {
        let (looping, _) = try Self.session("never_ends")
        var polls = 0
        #expect(looping.resume(interruptRequested: { polls += 1; return polls > 3 }) == .interrupted)
        #expect(looping.instructions > 0)
        #expect(looping.step() == .stepped)

        let (faulting, image) = try Self.session("fault_unmapped_read")
        guard case let .fault(fault) = faulting.resume() else {
            Issue.record("expected a fault")
            return
        }
        #expect(fault.kind == .unmappedRead && fault.address == 0x6000_0000)
        // The exact instruction, not its block's start (DebugFaultLocator), and PC agrees.
        let faultingLoad = try Self.address("faulting_load", in: image)
        #expect(fault.pc == faultingLoad)
        #expect(faulting.programCounter == faultingLoad)
        #expect(faulting.resume() == .fault(fault))
        #expect(faulting.step() == .fault(fault))
    }
}
