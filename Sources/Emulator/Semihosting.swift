import CUnicorn

/// ARM semihosting (BKPT 0xAB on M-profile): r0 holds the operation, r1 the parameter (often
/// the address of a parameter block of 32-bit words); the result goes back in r0.
/// Operation numbers and semantics: Arm "Semihosting for AArch32 and AArch64", version 3.0,
/// chapter 5 (SYS_OPEN 0x01 ... SYS_TICKFREQ 0x31).
///
/// No host files are ever opened: only the console (":tt") is available, so firmware cannot
/// read or overwrite anything on the user's machine.
enum SemihostingOperation: UInt32 {
    case open = 0x01, close = 0x02, writeCharacter = 0x03, writeString = 0x04, write = 0x05
    case read = 0x06, readCharacter = 0x07, isError = 0x08, isTTY = 0x09, seek = 0x0A
    case fileLength = 0x0C, clock = 0x10, time = 0x11, errno = 0x13, commandLine = 0x15
    case heapInfo = 0x16, exit = 0x18, exitExtended = 0x20, elapsed = 0x30, tickFrequency = 0x31
}

extension ExecutionState {
    /// ADP_Stopped_ApplicationExit: the "normal exit" reason code (semihosting spec 5.18).
    static let applicationExit: UInt32 = 0x20026
    /// Console handles: the standard ones newlib uses directly, and what SYS_OPEN(":tt") returns.
    static let stdinHandle: UInt32 = 0, stdoutHandle: UInt32 = 1, stderrHandle: UInt32 = 2

    func serviceSemihosting(pc: UInt32) {
        let operation = readRegister(UC_ARM_REG_R0)
        let parameter = readRegister(UC_ARM_REG_R1)
        var result: UInt32 = 0
        do {
            switch SemihostingOperation(rawValue: operation) {
            case .open:
                // Block: [name, mode, name length]. Modes 0-3 read, 4-7 write, 8-11 append (spec 5.11).
                // Only ":tt" is ever opened, so a longer name is not read at all (its length is
                // firmware-controlled and may be anything up to 4 GiB).
                let address = try readWord(parameter)
                let length = try readWord(parameter, plus: 8)
                let mode = try readWord(parameter, plus: 4)
                if length == 3, try readBytes(address, count: 3) == Array(":tt".utf8) {
                    result = mode < 4 ? Self.stdinHandle : (mode < 8 ? Self.stdoutHandle : Self.stderrHandle)
                } else {
                    result = UInt32(bitPattern: -1)
                }
            case .close:
                result = 0
            case .writeCharacter:
                emit(try readBytes(parameter, count: 1), toStandardError: false)
            case .writeString:
                // Up to the NUL, read in chunks that stop at the end of the string's region; a
                // string that runs off its region is an invalid parameter. Output is emitted as
                // it is found and counted against the output limit, so no length is trusted.
                var address = parameter
                scan: while stopReason == nil {
                    guard let region = part.region(containing: address) else {
                        throw EmulatorError.readOutsideMemory(address: address, count: 1)
                    }
                    let count = Int(min(256, region.end - UInt64(address)))
                    let chunk = try readBytes(address, count: count)
                    if let nul = chunk.firstIndex(of: 0) {
                        emit(Array(chunk[..<nul]), toStandardError: false)
                        break scan
                    }
                    emit(chunk, toStandardError: false)
                    address &+= UInt32(count)
                }
            case .write:
                // Block: [handle, buffer, length]; returns the number of bytes NOT written.
                let handle = try readWord(parameter)
                let buffer = try readWord(parameter, plus: 4)
                let length = try readWord(parameter, plus: 8)
                if handle == Self.stdoutHandle || handle == Self.stderrHandle {
                    try emitMemory(buffer, count: Int(length), toStandardError: handle == Self.stderrHandle)
                    result = 0
                } else {
                    result = length
                }
            case .read:
                // No standard input: report end of file (all bytes unread).
                result = try readWord(parameter, plus: 8)
            case .readCharacter:
                result = UInt32(bitPattern: -1)
            case .isError:
                result = try readWord(parameter) == 0 ? 0 : 1
            case .isTTY:
                let handle = try readWord(parameter)
                result = handle <= Self.stderrHandle ? 1 : 0
            case .seek, .fileLength:
                result = UInt32(bitPattern: -1)
            case .clock:
                // Centiseconds of emulated time, so runs stay deterministic.
                result = UInt32(truncatingIfNeeded: cycles / UInt64(max(1, options.clockMHz) * 10_000))
            case .time:
                // Emulated seconds since the run started, again for determinism.
                result = UInt32(truncatingIfNeeded: cycles / UInt64(max(1, options.clockMHz) * 1_000_000))
            case .errno:
                result = 0
            case .commandLine:
                // Block: [buffer, length]; write an empty, NUL-terminated command line.
                let buffer = try readWord(parameter)
                try writeBytes(buffer, [0])
                try writeBytes(try field(parameter, plus: 4), [0, 0, 0, 0])
            case .heapInfo:
                // Parameter points at a pointer to four words; zero means "use your own layout".
                let block = try readWord(parameter)
                try writeBytes(block, [UInt8](repeating: 0, count: 16))
            case .exit:
                // AArch32 passes the reason code itself in r1 (spec 5.17).
                exit(status: parameter == Self.applicationExit ? 0 : 1)
                return
            case .exitExtended:
                let reason = try readWord(parameter)
                let subcode = try readWord(parameter, plus: 4)
                exit(status: reason == Self.applicationExit ? Int32(bitPattern: subcode) : 1)
                return
            case .elapsed:
                let ticks = cycles
                try writeBytes(parameter, (0..<8).map { UInt8(truncatingIfNeeded: ticks >> (8 * UInt64($0))) })
            case .tickFrequency:
                result = UInt32(clamping: Int64(max(0, options.clockMHz)) * 1_000_000)
            case nil:
                result = UInt32(bitPattern: -1)
            }
        } catch {
            // A bad pointer in a semihosting call is the firmware's fault: report the block.
            stopForBadSemihostingCall(pc: pc, parameter: parameter)
            return
        }
        // The call itself may have ended the run (the output limit): writing PC would cancel
        // that stop (docs/design.md#unicorn-facts).
        guard stopReason == nil else { return }
        do {
            try writeRegister(UC_ARM_REG_R0, result)
            // Resume after the 16-bit BKPT (docs/design.md#unicorn-facts).
            try writeRegister(UC_ARM_REG_PC, (pc &+ 2) | 1)
        } catch {
            stopForBadSemihostingCall(pc: pc, parameter: parameter)
        }
    }

    /// The address of the parameter block's word at byte `offset`; a block that would wrap
    /// past the top of the address space is an invalid parameter, not a host overflow.
    private func field(_ block: UInt32, plus offset: UInt32) throws -> UInt32 {
        let (address, overflow) = block.addingReportingOverflow(offset)
        if overflow { throw EmulatorError.readOutsideMemory(address: block, count: Int(offset) + 4) }
        return address
    }

    private func readWord(_ block: UInt32, plus offset: UInt32) throws -> UInt32 {
        try readWord(try field(block, plus: offset))
    }

    private func stopForBadSemihostingCall(pc: UInt32, parameter: UInt32) {
        stop(.hardFault(reason: "semihosting call with an invalid parameter block"), pc: pc, address: parameter)
    }
}
