/// The UsageFault causes of the ARMv7-M architecture, each one bit of the UsageFault Status
/// Register, UFSR = CFSR[31:16] (ARMv7-M ARM, DDI 0403E, B3.2.15 "Configurable Fault Status
/// Register, CFSR"). The raw value is the bit's name there.
public enum UsageFault: String, Sendable, Equatable {
    case undefinedInstruction = "UNDEFINSTR"
    case invalidState = "INVSTATE"
    case noCoprocessor = "NOCP"
    case unaligned = "UNALIGNED"
    case divideByZero = "DIVBYZERO"

    /// The bit's position in CFSR.
    public var cfsrBit: Int {
        switch self {
        case .undefinedInstruction: return 16
        case .invalidState: return 17
        case .noCoprocessor: return 19
        case .unaligned: return 24
        case .divideByZero: return 25
        }
    }
}

/// What went wrong inside the firmware, in the terms of the Cortex-M7 and the memory map.
public enum FaultKind: Sendable, Equatable {
    case unmappedRead
    case unmappedWrite
    case unmappedFetch
    case flashWrite
    case fetchFromNonExecutable
    case stackOverflow
    case undefinedInstruction
    /// A UsageFault the ARMv7-M architecture prescribes (escalated to HardFault on a board
    /// without a UsageFault handler), raised by `instruction` ("LDRD", "SDIV", ...).
    case usageFault(UsageFault, instruction: String)
    /// A UsageFault that escalates to HardFault because firmware cannot handle it here
    /// (MixQ has no exception model); `reason` says which one.
    case hardFault(reason: String)
    /// A BKPT whose immediate is not the semihosting one (0xAB).
    case breakpoint(immediate: UInt8)
}

extension FaultKind {
    /// Faults raised by a load or store (located by re-running the faulting block traced).
    var isDataAccess: Bool {
        switch self {
        case .unmappedRead, .unmappedWrite, .flashWrite, .stackOverflow: return true
        default: return false
        }
    }
}

/// A firmware fault, located: where the core was and what it touched.
public struct Fault: Sendable, Equatable, CustomStringConvertible {
    public var kind: FaultKind
    /// Address of the faulting instruction.
    public var pc: UInt32
    /// "function+0xoffset" of the faulting instruction, from the symbol table.
    public var function: String?
    /// The data address involved (nil for faults that touch no memory).
    public var address: UInt32?
    /// The memory region `address` falls in, or nil when it is in none.
    public var region: String?
    /// Region of the PC.
    public var pcRegion: String?
    public var stackPointer: UInt32

    public var description: String {
        let location = "at PC 0x\(hex(pc))" + (function.map { " in \($0)" } ?? "")
            + (pcRegion.map { " (\($0))" } ?? "")
        let target = address.map { address in
            "0x\(hex(address))" + (region.map { " (\($0))" } ?? " (not in any memory region)")
        } ?? ""
        switch kind {
        case .unmappedRead:
            return "read of unmapped address \(target) \(location)"
        case .unmappedWrite:
            return "write to unmapped address \(target) \(location)"
        case .unmappedFetch:
            return "instruction fetch from unmapped address \(target) \(location)"
        case .flashWrite:
            return "write to FLASH address \(target) \(location); FLASH is read-only while firmware runs (put writable data in RAM)"
        case .fetchFromNonExecutable:
            return "instruction fetch from non-executable address \(target) \(location)"
        case .stackOverflow:
            return "stack overflow: access to \(target) below the bottom of the stack, SP = 0x\(hex(stackPointer)), \(location); make the stack larger or use less of it"
        case .undefinedInstruction:
            return "UsageFault UNDEFINSTR (CFSR bit 16): undefined instruction \(location)"
        case let .usageFault(cause, instruction):
            let name = "UsageFault \(cause.rawValue) (CFSR bit \(cause.cfsrBit))"
            switch cause {
            case .unaligned:
                let always = !["LDR", "STR", "LDRH", "STRH", "LDRSH", "TBH"].contains(instruction)
                return "\(name): \(instruction) of unaligned address \(target) \(location); "
                    + (always
                        ? "LDRD/STRD, LDM/STM, LDREX/STREX and VLDR/VSTR/VLDM/VSTM always need word-aligned addresses on ARMv7-M (LDREXH/STREXH halfword-aligned), unlike LDR/STR: align the data (e.g. __attribute__((aligned(4)))) or copy it with memcpy"
                        : "SCB->CCR.UNALIGN_TRP (bit 3) is set, so unaligned LDR/STR word and halfword accesses fault: align the data or clear UNALIGN_TRP")
            case .divideByZero:
                return "\(name): \(instruction) by zero \(location) with SCB->CCR.DIV_0_TRP (bit 4) set; check the divisor, or clear DIV_0_TRP to get a quotient of 0"
            case .noCoprocessor:
                return "\(name): \(instruction) \(location) while CPACR gives no access to CP10/CP11 (the FPU); enable it first (SCB->CPACR |= 0xF << 20, then DSB and ISB), as firmware/startup/startup.c does"
            case .invalidState:
                return "\(name): execution in ARM state \(location), after a BX/BLX/POP/LDR to PC with an address whose bit 0 is clear; Cortex-M runs Thumb only, so function pointers need bit 0 set"
            case .undefinedInstruction:
                return "\(name): undefined instruction \(location)"
            }
        case let .hardFault(reason):
            return "HardFault (\(reason)) \(location)"
        case let .breakpoint(immediate):
            return "breakpoint BKPT #0x\(String(immediate, radix: 16)) \(location) (only BKPT #0xAB, semihosting, is serviced)"
        }
    }
}

/// Errors from loading or running firmware on the emulated part.
public enum EmulatorError: Error, CustomStringConvertible, Equatable {
    /// Unicorn itself refused an operation (a bug in MixQ, or an unusable installation).
    case engine(operation: String, message: String)
    /// A segment of the ELF lands outside the part's memory.
    case segmentOutsideMemory(address: UInt32, size: UInt32, part: String)
    /// The image has no vector table where the part boots.
    case noVectorTable(bootAddress: UInt32, part: String)
    case badResetVector(pc: UInt32)
    case fault(Fault)
    case instructionBudgetExhausted(budget: UInt64, pc: UInt32, function: String?)
    /// The firmware wrote more than `RunOptions.maxOutputBytes` bytes of output.
    case outputLimitExceeded(limit: UInt64, pc: UInt32, function: String?)
    /// The core stopped (WFI, or returned to an empty address) without exiting through semihosting.
    case stoppedWithoutExit(pc: UInt32, function: String?)
    case readOutsideMemory(address: UInt32, count: Int)
    /// An input for `Machine.run(_:options:inputs:)` does not lie inside one RAM region.
    case inputOutsideRAM(address: UInt32, count: Int)
    /// A profile was asked for an image without function symbols (a stripped ELF).
    case noSymbolsToProfile

    public var description: String {
        switch self {
        case let .engine(operation, message):
            return "emulator engine failed in \(operation): \(message)"
        case let .segmentOutsideMemory(address, size, part):
            return "ELF segment of \(size) bytes at 0x\(hex(address)) does not fit in the memory of \(part); check the linker script's MEMORY regions"
        case let .noVectorTable(bootAddress, part):
            return "no vector table at 0x\(hex(bootAddress)), where \(part) boots; link the firmware with its vector table at the start of FLASH"
        case let .badResetVector(pc):
            return "reset vector 0x\(hex(pc)) is not a Thumb address (bit 0 clear); a Cortex-M would HardFault at reset"
        case let .fault(fault):
            return "firmware fault: \(fault)"
        case let .instructionBudgetExhausted(budget, pc, function):
            return "firmware did not finish within \(budget) instructions; stopped at PC 0x\(hex(pc))"
                + (function.map { " in \($0)" } ?? "")
                + " (raise --max-instructions if it is just slow)"
        case let .outputLimitExceeded(limit, pc, function):
            return "firmware wrote more than \(limit) bytes of output; stopped at PC 0x\(hex(pc))"
                + (function.map { " in \($0)" } ?? "")
                + " (raise --max-output if that much output is expected, or look for a print loop)"
        case let .stoppedWithoutExit(pc, function):
            return "firmware stopped at PC 0x\(hex(pc))" + (function.map { " in \($0)" } ?? "")
                + " without exiting through semihosting (SYS_EXIT); WFI or a return from the reset handler ends a run like this"
        case let .readOutsideMemory(address, count):
            return "cannot read \(count) bytes at 0x\(hex(address)): not inside one memory region"
        case let .inputOutsideRAM(address, count):
            return "cannot place \(count) input bytes at 0x\(hex(address)): not inside one RAM region"
        case .noSymbolsToProfile:
            return "the ELF has no function symbols (stripped?), so a profile could not name where cycles go; "
                + "profile the unstripped ELF (arm-none-eabi-strip or -s removed them)"
        }
    }
}
