import CUnicorn
import UnicornShim

/// Names the exact instruction of a data-access fault in a debug session.
///
/// Unicorn 2.0.1 reports such a fault with PC at the start of the translated block while the
/// other registers and memory already hold the effects of the instructions before the
/// faulting one (docs/design.md#unicorn-facts). `Machine.run` finds the instruction by running
/// again; a debug session cannot (the debugger may have changed anything), so this tries each
/// instruction of the block in a scratch engine holding a copy of memory and of the registers:
/// the first one that faults at the same address, run from that state, is the faulting one.
/// Registers are then exactly those before it, so setting PC to it makes the state consistent.
enum DebugFaultLocator {
    static func locate(fault: Fault, block: (address: UInt32, size: UInt32), part: Part,
                       source engine: OpaquePointer) -> UInt32? {
        guard fault.kind.isDataAccess, let faultAddress = fault.address, block.size > 0, block.size <= 4096,
              let scratch = try? Machine.openEngine(core: part.core) else { return nil }
        defer { uc_close(scratch) }
        // Copy memory: about 3 MB on the STM32H743, once per fault.
        for region in part.regions {
            let protection = region.kind == .flash ? UC_PROT_READ.rawValue | UC_PROT_EXEC.rawValue : UC_PROT_ALL.rawValue
            guard uc_mem_map(scratch, UInt64(region.base), Int(region.size), UInt32(protection)) == UC_ERR_OK else { return nil }
            var bytes = [UInt8](repeating: 0, count: Int(region.size))
            let copied = bytes.withUnsafeMutableBytes { buffer -> Bool in
                uc_mem_read(engine, UInt64(region.base), buffer.baseAddress, buffer.count) == UC_ERR_OK
                    && uc_mem_write(scratch, UInt64(region.base), buffer.baseAddress, buffer.count) == UC_ERR_OK
            }
            guard copied else { return nil }
        }
        let registers = RegisterFile(engine: engine)
        let probe = Probe()
        let context = Unmanaged.passUnretained(probe).toOpaque()
        var handle: uc_hook = 0
        guard mixq_uc_hook_invalid_memory(scratch, &handle, probeInvalidMemory, context) == UC_ERR_OK,
              mixq_uc_hook_block(scratch, &handle, probeBlock, context, 1, 0) == UC_ERR_OK,
              mixq_uc_hook_code(scratch, &handle, probeCode, context, UInt64(block.address),
                                UInt64(block.address) + UInt64(block.size) - 1) == UC_ERR_OK else { return nil }
        var candidate = block.address
        let end = block.address &+ block.size
        while candidate < end {
            var halfword: UInt16 = 0
            guard uc_mem_read(engine, UInt64(candidate), &halfword, 2) == UC_ERR_OK else { return nil }
            registers.restore(into: scratch)
            probe.start = candidate
            probe.faultAddress = nil
            probe.blocks = 0
            _ = uc_emu_start(scratch, UInt64(candidate | 1), 0xFFFF_FFFE, 0, 0)
            if let address = probe.faultAddress, address == faultAddress {
                return candidate
            }
            candidate &+= ThumbDecoding.length(of: UInt16(littleEndian: halfword))
        }
        return nil
    }

    /// What the scratch engine's hooks record.
    final class Probe {
        var start: UInt32 = 0
        var faultAddress: UInt32?
        var blocks = 0
    }

    /// The registers a Thumb instruction can read: core, xPSR, FPU.
    struct RegisterFile {
        var core: [UInt32] = []
        var doubles: [UInt64] = []
        var xpsr: UInt32 = 0
        var fpscr: UInt32 = 0

        init(engine: OpaquePointer) {
            for index in 0..<15 {
                var value: UInt32 = 0
                _ = uc_reg_read(engine, Int32(Self.coreRegister(index).rawValue), &value)
                core.append(value)
            }
            for index in 0..<16 {
                var value: UInt64 = 0
                _ = uc_reg_read(engine, Int32(UC_ARM_REG_D0.rawValue + UInt32(index)), &value)
                doubles.append(value)
            }
            _ = uc_reg_read(engine, Int32(UC_ARM_REG_XPSR.rawValue), &xpsr)
            _ = uc_reg_read(engine, Int32(UC_ARM_REG_FPSCR.rawValue), &fpscr)
        }

        func restore(into engine: OpaquePointer) {
            for (index, value) in core.enumerated() {
                var value = value
                _ = uc_reg_write(engine, Int32(Self.coreRegister(index).rawValue), &value)
            }
            for (index, value) in doubles.enumerated() {
                var value = value
                _ = uc_reg_write(engine, Int32(UC_ARM_REG_D0.rawValue + UInt32(index)), &value)
            }
            var xpsr = self.xpsr, fpscr = self.fpscr
            _ = uc_reg_write(engine, Int32(UC_ARM_REG_XPSR.rawValue), &xpsr)
            _ = uc_reg_write(engine, Int32(UC_ARM_REG_FPSCR.rawValue), &fpscr)
        }

        private static func coreRegister(_ index: Int) -> uc_arm_reg {
            switch index {
            case 13: return UC_ARM_REG_SP
            case 14: return UC_ARM_REG_LR
            default: return uc_arm_reg(rawValue: UC_ARM_REG_R0.rawValue + UInt32(index))
            }
        }
    }
}

private let probeInvalidMemory: mixq_invalid_memory_callback = { engine, _, address, _, _, context in
    Unmanaged<DebugFaultLocator.Probe>.fromOpaque(context!)._withUnsafeGuaranteedRef {
        $0.faultAddress = UInt32(truncatingIfNeeded: address)
    }
    return false
}

/// Runs one instruction: stops at the next one inside the block, or at the next block a branch
/// leads to (`probeBlock`).
private let probeCode: mixq_code_callback = { engine, address, _, context in
    Unmanaged<DebugFaultLocator.Probe>.fromOpaque(context!)._withUnsafeGuaranteedRef {
        if UInt32(truncatingIfNeeded: address) != $0.start { uc_emu_stop(engine) }
    }
}

private let probeBlock: mixq_block_callback = { engine, _, _, context in
    Unmanaged<DebugFaultLocator.Probe>.fromOpaque(context!)._withUnsafeGuaranteedRef {
        $0.blocks += 1
        if $0.blocks > 1 { uc_emu_stop(engine) }
    }
}
