import CUnicorn
import Timing
import UnicornShim

/// Connects the Timing module's `CycleModel` to a run: creates it for `--timing pipeline|full`,
/// feeds it every translated block (from the block hook) and, in `full` mode, every data access
/// (through one memory hook), and tells it when the firmware switches the L1 caches.
extension ExecutionState {
    /// The cycle model for `options.timing`, or nil for `.off`.
    static func makeCycleModel(options: RunOptions, part: Part) throws -> CycleModel? {
        guard options.timing != .off else { return nil }
        let regions = part.regions.map { region in
            TimedRegion(base: region.base, size: region.size, kind: memoryKind(of: region))
        }
        return try CycleModel(mode: options.timing, clockMHz: options.clockMHz, regions: regions,
                              parameters: part.timingParameters, core: part.core,
                              flashWaitStates: part.flashWaitStates[options.clockMHz])
    }

    /// How the cycle model treats a region: TCM zero-wait, FLASH with wait states, SRAM behind
    /// the caches like the STM32H743's AXI SRAM, or slower where a bus bridge sits between
    /// (`MemoryRegion.behindBusBridge`).
    static func memoryKind(of region: MemoryRegion) -> MemoryKind {
        switch region.kind {
        case .tcm: return .tcm
        case .flash: return .flash
        case .sram: return region.behindBusBridge ? .busSRAM : .axiSRAM
        }
    }

    /// The memory hook every data access needs under `full` (the model's D-cache) and for a
    /// profile that counts data accesses; nil when neither asks for one. Memory hooks slow
    /// every access (docs/design.md#unicorn-facts), so `pipeline` alone never installs one. One
    /// hook serves both: the profile's also feeds the model.
    func installDataAccessHook() throws -> uc_hook? {
        let callback: mixq_memory_callback
        if let profiler, profiler.options.dataAccesses {
            callback = profiledDataAccessHook
        } else if let model = cycleModel, model.mode == .full {
            callback = dataAccessHook
        } else {
            return nil
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        var handle: uc_hook = 0
        let types = Int32(UC_HOOK_MEM_READ.rawValue | UC_HOOK_MEM_WRITE.rawValue)
        let err = mixq_uc_hook_memory(engine, &handle, types, callback, context, 1, 0)
        guard err == UC_ERR_OK else {
            throw EmulatorError.engine(operation: "adding the data-access memory hook", message: String(cString: uc_strerror(err)))
        }
        return handle
    }

    /// Accounts one block with the cycle model and returns its instruction count.
    @inline(__always)
    func timeBlock(_ model: CycleModel, address: UInt32, size: UInt32) -> UInt32 {
        let engine = self.engine
        let count = model.enterBlock(address: address, size: size) { address, count, buffer in
            uc_mem_read(engine, UInt64(address), buffer, count) == UC_ERR_OK
        }
        if model.hasNewDivideSites { hookDivides(model.takeNewDivideSites()) }
        return count
    }

    /// Adds a code hook on each newly decoded SDIV/UDIV so the model sees its operands
    /// (`CycleModel.divide`), and drops the translations holding them so the next execution
    /// calls the hook (a code hook added later does not reach blocks already translated,
    /// docs/design.md#unicorn-facts). The block running now keeps its translation: its divides
    /// cost the fastest divide this once. A hook over one instruction costs nothing elsewhere.
    @inline(never)
    private func hookDivides(_ sites: [DivideSite]) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        for site in sites {
            var handle: uc_hook = 0
            guard mixq_uc_hook_code(engine, &handle, divideHook, context, UInt64(site.address),
                                    UInt64(site.address)) == UC_ERR_OK else { continue }
            hooks.append(handle)
            _ = mixq_uc_remove_translations(engine, UInt64(site.address), UInt64(site.address) + 4)
        }
    }

    /// The divide at `address` is about to execute: hands its operands to the model.
    func divideExecuting(at address: UInt32) {
        guard let model = cycleModel, let site = model.divideSite(at: address) else { return }
        func register(_ index: UInt8) -> UInt32 {
            switch index {
            case 0...12: return readRegister(uc_arm_reg(rawValue: UC_ARM_REG_R0.rawValue + UInt32(index)))
            case 13: return readRegister(UC_ARM_REG_SP)
            default: return readRegister(UC_ARM_REG_LR)
            }
        }
        model.divide(at: address, dividend: register(site.dividend), divisor: register(site.divisor))
    }

    /// Passes the firmware's cache control to the model after a write to the system control
    /// space: SCB->CCR IC/DC enables, and ICIALLU (invalidate the whole I-cache, 0xE000_EF50,
    /// ARMv7-M ARM B2.2.7). D-cache set/way invalidation before enabling is implied: the model
    /// starts the D-cache empty when the firmware enables it.
    func cacheControlWritten(at address: UInt32) {
        guard let model = cycleModel else { return }
        if address == SystemControlSpace.Address.configurationControl {
            model.setCacheEnables(instruction: systemControl.instructionCacheEnabled,
                                  data: systemControl.dataCacheEnabled)
        } else if address == SystemControlSpace.Address.instructionCacheInvalidateAll {
            model.invalidateInstructionCache()
        }
    }


    /// The cycle count a DWT->CYCCNT or SysTick access sees: the issue cycle of the accessing
    /// instruction when the cycle model runs, else the instruction count.
    var cyclesAtPeripheralAccess: UInt64 {
        cycleModel?.cyclesAtPeripheralAccess() ?? instructions
    }
}

private let divideHook: mixq_code_callback = { _, address, _, context in
    Unmanaged<ExecutionState>.fromOpaque(context!)._withUnsafeGuaranteedRef {
        $0.divideExecuting(at: UInt32(truncatingIfNeeded: address))
    }
}

private let dataAccessHook: mixq_memory_callback = { _, type, address, size, _, context in
    Unmanaged<ExecutionState>.fromOpaque(context!)._withUnsafeGuaranteedRef { state in
        state.cycleModelReference?._withUnsafeGuaranteedRef {
            $0.dataAccess(address: UInt32(truncatingIfNeeded: address), size: Int(size), write: type == UC_MEM_WRITE)
        }
    }
}

private let profiledDataAccessHook: mixq_memory_callback = { _, type, address, size, _, context in
    Unmanaged<ExecutionState>.fromOpaque(context!)._withUnsafeGuaranteedRef { state in
        let target = UInt32(truncatingIfNeeded: address)
        let write = type == UC_MEM_WRITE
        var stall: UInt64 = 0
        if let model = state.cycleModelReference, model._withUnsafeGuaranteedRef({ $0.mode == .full }) {
            model._withUnsafeGuaranteedRef {
                let before = $0.cycles
                $0.dataAccess(address: target, size: Int(size), write: write)
                stall = $0.cycles &- before
            }
        }
        state.profilerReference?._withUnsafeGuaranteedRef {
            $0.dataAccess(address: target, size: Int(size), write: write, stallCycles: stall)
        }
    }
}
