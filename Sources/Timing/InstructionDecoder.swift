import CCapstone

/// Decodes Thumb-2 machine code with Capstone 4 (Thumb | MClass) into `InstructionProfile`s.
///
/// Capstone gives the instruction, its operands and the registers it reads and writes; the
/// Cortex-M7 facts (latencies, read stages, units, pairing) are ours, from `TimingParameters`.
/// Register-access gaps of Capstone 4 patched here: conditional execution (inside IT blocks)
/// reads the flags; `update_flags` writes them; base write-back writes the base register; the
/// registers of LDM/POP lists are written; PC is never treated as a data dependency.
final class InstructionDecoder {
    private var handle: csh = 0
    private let parameters: TimingParameters
    private var opened = false

    init(parameters: TimingParameters = .cortexM7) throws {
        self.parameters = parameters
        let mode = cs_mode(rawValue: CS_MODE_THUMB.rawValue | CS_MODE_MCLASS.rawValue)
        let err = cs_open(CS_ARCH_ARM, mode, &handle)
        guard err == CS_ERR_OK else {
            throw TimingError.decoderUnavailable(message: String(cString: cs_strerror(err)))
        }
        opened = true
        cs_option(handle, CS_OPT_DETAIL, Int(CS_OPT_ON.rawValue))
    }

    deinit {
        if opened { cs_close(&handle) }
    }

    /// Decodes `bytes` (a translated block at `address`). Bytes Capstone cannot decode become
    /// 16-bit single-issue placeholders so that the block's length still adds up.
    func decode(_ bytes: UnsafeRawBufferPointer, address: UInt32) -> [InstructionProfile] {
        // Setting the mode again starts each block outside any IT block: Capstone keeps IT
        // state between calls, and a block never inherits the previous decode's IT state. (A
        // block that starts inside an IT block, rare in Unicorn's translation, then decodes its
        // first instructions as unconditional; their timing is the same, only the flags read
        // is lost.)
        cs_option(handle, CS_OPT_MODE, Int(CS_MODE_THUMB.rawValue | CS_MODE_MCLASS.rawValue))
        var profiles: [InstructionProfile] = []
        var offset = 0
        while offset + 1 < bytes.count {
            var instructions: UnsafeMutablePointer<cs_insn>?
            let base = bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self)
            let count = cs_disasm(handle, base, bytes.count - offset, UInt64(address) + UInt64(offset), 0, &instructions)
            if let instructions, count > 0 {
                for index in 0..<count {
                    profiles.append(profile(of: instructions[index]))
                    offset += Int(instructions[index].size)
                }
                cs_free(instructions, count)
            }
            if offset + 1 < bytes.count {
                // Undecodable halfword (data in code, or an encoding Capstone lacks).
                let top = bytes[offset + 1] >> 3
                let length = (top == 0b11101 || top == 0b11110 || top == 0b11111) ? 4 : 2
                profiles.append(InstructionProfile(address: address + UInt32(offset), length: UInt8(length),
                                                   mnemonic: "(undecoded)", unit: .system, singleIssue: true))
                offset += length
            }
        }
        return profiles
    }

    // MARK: Classification

    private func profile(of insn: cs_insn) -> InstructionProfile {
        let id = arm_insn(rawValue: insn.id)
        let mnemonic = withUnsafeBytes(of: insn.mnemonic) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var p = InstructionProfile(address: UInt32(truncatingIfNeeded: insn.address), length: UInt8(insn.size),
                                   mnemonic: mnemonic, unit: .alu)
        guard let detail = insn.detail else { return p }
        let arm = detail.pointee.arm
        let operands: [cs_arm_op] = withUnsafeBytes(of: arm.operands) { raw in
            Array(raw.bindMemory(to: cs_arm_op.self).prefix(Int(arm.op_count)))
        }
        let isDouble = operands.contains { $0.type == ARM_OP_REG && Self.isDoubleRegister($0.reg) }

        // Registers read and written, implicit ones included.
        var readRegs: [UInt8] = []
        var writeRegs: [UInt8] = []
        var insnCopy = insn
        var readList = [UInt16](repeating: 0, count: 64), writeList = [UInt16](repeating: 0, count: 64)
        var readCount: UInt8 = 0, writeCount: UInt8 = 0
        if cs_regs_access(handle, &insnCopy, &readList, &readCount, &writeList, &writeCount) == CS_ERR_OK {
            for r in readList.prefix(Int(readCount)) { readRegs.append(contentsOf: Self.indices(of: Int32(r))) }
            for r in writeList.prefix(Int(writeCount)) { writeRegs.append(contentsOf: Self.indices(of: Int32(r))) }
        }
        // Operand registers (covers gaps in cs_regs_access).
        for op in operands where op.type == ARM_OP_REG {
            let regs = Self.indices(of: op.reg)
            if op.access & UInt8(CS_AC_READ.rawValue) != 0 { readRegs.append(contentsOf: regs) }
            if op.access & UInt8(CS_AC_WRITE.rawValue) != 0 { writeRegs.append(contentsOf: regs) }
        }
        var addressRegs: [UInt8] = []
        for op in operands where op.type == ARM_OP_MEM {
            if let base = Self.indices(of: Int32(op.mem.base.rawValue)).first {
                addressRegs.append(base)
                readRegs.append(base)
                p.memoryBase = base
                p.memoryOffset = op.mem.disp
            }
            if op.mem.index != ARM_REG_INVALID, let index = Self.indices(of: Int32(op.mem.index.rawValue)).first {
                addressRegs.append(index)
                readRegs.append(index)
                p.hasIndexRegister = true
            }
        }
        let conditional = arm.cc != ARM_CC_AL && arm.cc != ARM_CC_INVALID
        if id == ARM_INS_LDR, let mem = operands.first(where: { $0.type == ARM_OP_MEM }),
           mem.mem.base == ARM_REG_PC, mem.mem.index == ARM_REG_INVALID {
            p.literalAddress = UInt32(truncatingIfNeeded: (Int64(insn.address) + 4) & ~3 + Int64(mem.mem.disp))
        }
        if (id == ARM_INS_MOV || id == ARM_INS_MOVW || id == ARM_INS_MOVT) && operands.count == 2 && !conditional,
           operands[0].type == ARM_OP_REG, operands[1].type == ARM_OP_IMM,
           let r = Self.indices(of: operands[0].reg).first {
            p.immediate = (r, UInt32(bitPattern: operands[1].imm), id == ARM_INS_MOVT)
        }
        let cls = Self.classify(id)
        if conditional && cls.unit != .branch { readRegs.append(RegisterIndex.flags) }
        if arm.update_flags { writeRegs.append(RegisterIndex.flags) }
        if arm.writeback, let base = p.memoryBase ?? operands.first.flatMap({ Self.indices(of: $0.reg).first }) {
            writeRegs.append(base)
            // Post-indexed: an immediate operand follows the memory operand (Capstone 4).
            if let memIndex = operands.firstIndex(where: { $0.type == ARM_OP_MEM }) {
                if let post = operands[(memIndex + 1)...].first(where: { $0.type == ARM_OP_IMM || $0.type == ARM_OP_REG }) {
                    p.postIndexed = true
                    if post.type == ARM_OP_IMM { p.baseAdvance = post.subtracted ? -post.imm : post.imm }
                } else if !p.hasIndexRegister {
                    p.baseAdvance = p.memoryOffset
                }
            }
        }
        if [ARM_INS_LDM, ARM_INS_LDMDB, ARM_INS_POP, ARM_INS_STM, ARM_INS_STMDB, ARM_INS_PUSH,
            ARM_INS_VLDMIA, ARM_INS_VLDMDB, ARM_INS_VSTMIA, ARM_INS_VSTMDB, ARM_INS_VPUSH, ARM_INS_VPOP].contains(id) {
            // The base register (or SP) is read as an address.
            if let first = operands.first, first.type == ARM_OP_REG, id != ARM_INS_POP, id != ARM_INS_PUSH,
               id != ARM_INS_VPUSH, id != ARM_INS_VPOP, let base = Self.indices(of: first.reg).first {
                addressRegs.append(base)
                p.memoryBase = base
            } else {
                addressRegs.append(RegisterIndex.stackPointer)
                readRegs.append(RegisterIndex.stackPointer)
                writeRegs.append(RegisterIndex.stackPointer)
            }
        }

        p.unit = cls.unit
        let writesPC = writeRegs.contains(RegisterIndex.programCounter)
        readRegs.removeAll { $0 == RegisterIndex.programCounter }
        writeRegs.removeAll { $0 == RegisterIndex.programCounter }

        // Roles of the registers read.
        var shiftedRegs: [UInt8] = []
        for op in operands where op.type == ARM_OP_REG && op.shift.type != ARM_SFT_INVALID && op.shift.value != 0 {
            if let r = Self.indices(of: op.reg).first { shiftedRegs.append(r) }
            if op.shift.type.rawValue >= ARM_SFT_ASR_REG.rawValue, let r = Self.indices(of: Int32(op.shift.value)).first {
                shiftedRegs.append(r)
            }
        }
        let plainShift = [ARM_INS_LSL, ARM_INS_LSR, ARM_INS_ASR, ARM_INS_ROR, ARM_INS_RRX, ARM_INS_MOV].contains(id)
        if !shiftedRegs.isEmpty && cls.unit == .alu && !plainShift { p.usesShifter = true }
        if cls.unit == .dsp { p.usesShifter = true }
        let regOperands = operands.filter { $0.type == ARM_OP_REG }.compactMap { Self.indices(of: $0.reg).first }

        var roles: [UInt8: ReadRole] = [:]
        for r in readRegs where roles[r] == nil { roles[r] = .normal }
        for r in shiftedRegs where !plainShift { roles[r] = .early }
        switch cls.earlyOperands {
        case .none: break
        case .all: for r in regOperands.dropFirst() { roles[r] = .early }
        case .last: if regOperands.count >= 2, let r = regOperands.last { roles[r] = .early }
        case .lastTwo: for r in regOperands.dropFirst().suffix(2) { roles[r] = .early }
        }
        if cls.unit == .multiply {
            for r in regOperands.dropFirst() where roles[r] == .normal { roles[r] = .multiplicand }
            switch cls.accumulator {
            case .none: break
            case .fourth: if regOperands.count >= 4 { roles[regOperands[3]] = .accumulator }
            case .firstTwo: for r in regOperands.prefix(2) { roles[r] = .accumulator }
            }
        }
        if cls.unit == .fpMultiplyAccumulate, let d = regOperands.first { roles[d] = .fpAccumulator }
        if cls.unit == .store || (cls.unit == .loadStoreMultiple && !cls.isLoad) {
            for r in readRegs where roles[r] == .normal { roles[r] = .storeData }
        }
        for r in addressRegs { roles[r] = .address }
        p.reads = roles.keys.sorted().map { RegisterRead(register: $0, role: roles[$0]!) }

        // Latency of each register written.
        let loadLatency = cls.subword ? parameters[.subwordLoadLatency] : parameters[.wordLoadLatency]
        var seen = Set<UInt8>()
        for r in writeRegs where seen.insert(r).inserted {
            var latency = parameters[.aluLatency]
            var producer = ProducerKind.alu
            switch cls.unit {
            case .load, .loadStoreMultiple:
                if addressRegs.contains(r) && (arm.writeback || r == RegisterIndex.stackPointer) {
                    latency = parameters[.aluLatency]  // base write-back comes from the AGU
                } else if r >= RegisterIndex.firstFloatingPoint {
                    latency = parameters[.fpLoadLatency]; producer = .load
                } else {
                    latency = loadLatency; producer = cls.subword ? .subwordLoad : .load
                }
            case .multiply: latency = parameters[.multiplyLatency]; producer = .multiply
            case .dsp: producer = .dsp
            case .divide: latency = parameters[.divideMinimumCycles]
            case .fpArithmetic:
                latency = isDouble && id == ARM_INS_VMUL ? parameters[.fpDoubleMultiplyCycles] : parameters[.fpArithmeticLatency]
                producer = .fpOther
            case .fpMultiplyAccumulate:
                latency = cls.fused ? parameters[.fpFusedLatency] : parameters[.fpChainedLatency]
                producer = .fpMultiplyAccumulate
            case .fpMove:
                latency = r >= RegisterIndex.firstFloatingPoint || r == RegisterIndex.floatingPointStatus
                    ? parameters[.fpMoveLatency] : parameters[.aluLatency]
                producer = .fpOther
            default: break
            }
            if r == RegisterIndex.flags && cls.unit != .fpMove { latency = parameters[.aluLatency]; producer = .alu }
            p.writes.append(RegisterWrite(register: r, latency: latency, producer: producer))
        }
        p.setsFlags = p.writes.contains { $0.register == RegisterIndex.flags }

        // Issue constraints.
        switch cls.unit {
        case .loadStoreMultiple:
            let listed = max(1, regOperands.count - (id == ARM_INS_POP || id == ARM_INS_PUSH
                                                         || id == ARM_INS_VPUSH || id == ARM_INS_VPOP ? 0 : 1))
            let words = listed * (isDouble ? 2 : 1) + (writesPC ? 1 : 0)
            p.transferWords = UInt8(clamping: words)
            p.singleIssue = true
            p.issueCycles = (words + 1) / 2
        case .divide:
            // The schedule charges the fastest divide; the operands' extra cycles are added at
            // run time (`CycleModel.divide`), from a code hook on this instruction.
            p.singleIssue = true
            p.issueCycles = parameters[.divideMinimumCycles]
            let sources = operands.filter { $0.type == ARM_OP_REG }.compactMap { Self.indices(of: $0.reg).first }
            if sources.count == 3 {
                p.divide = DivideSite(address: p.address, dividend: sources[1], divisor: sources[2],
                                      signed: id == ARM_INS_SDIV)
            }
        case .system:
            p.singleIssue = true
            p.issueCycles = cls.barrier ? parameters[.barrierCycles] : 1
        default: break
        }
        if cls.dual {  // LDRD/STRD, TBB/TBH, VLDR.64/VSTR.64, two-register VMOV
            p.transferWords = 2
            p.singleIssue = true
            p.issueCycles = parameters[.loadStoreDualCycles]
        }
        if (id == ARM_INS_VLDR || id == ARM_INS_VSTR) && isDouble { p.singleIssue = true }
        if id == ARM_INS_VMOV && regOperands.count >= 3 { p.singleIssue = true }
        if id == ARM_INS_VDIV { p.lockCycles = (isDouble ? parameters[.fpDoubleDivideCycles] : parameters[.fpDivideCycles]) - 1 }
        if id == ARM_INS_VSQRT { p.lockCycles = (isDouble ? parameters[.fpDoubleDivideCycles] : parameters[.fpSqrtCycles]) - 1 }
        if isDouble && id == ARM_INS_VMUL { p.lockCycles = parameters[.fpDoubleMultiplyCycles] - 1 }
        if cls.unit == .store && cls.subword {
            p.narrowStore = true
            p.byteStore = id == ARM_INS_STRB || id == ARM_INS_STRBT
        }

        // Branches.
        if id == ARM_INS_CBZ || id == ARM_INS_CBNZ {
            p.branch = .conditional
            p.comparedRegister = regOperands.first
        } else if id == ARM_INS_B {
            p.branch = conditional ? .conditional : .direct
        } else if id == ARM_INS_BL {
            p.branch = .call
        } else if id == ARM_INS_BLX {
            p.branch = .indirectCall
        } else if id == ARM_INS_BX {
            p.branch = regOperands.first == RegisterIndex.linkRegister ? .return : .indirect
        } else if writesPC {
            let fromStack = (cls.unit == .loadStoreMultiple && (id == ARM_INS_POP || p.memoryBase == RegisterIndex.stackPointer))
                || (cls.unit == .load && p.memoryBase == RegisterIndex.stackPointer)
            p.branch = fromStack ? .return : .indirect
        }
        if p.branch != .none {
            if p.unit != .loadStoreMultiple && p.unit != .load && !cls.dual { p.unit = .branch }
            if conditional && p.branch != .conditional { p.branch = .conditional }
        }
        return p
    }

    private static func isDoubleRegister(_ reg: Int32) -> Bool {
        reg >= Int32(ARM_REG_D0.rawValue) && reg <= Int32(ARM_REG_D31.rawValue)
    }

    /// Capstone register -> scheduler register indices (a D register is two S registers).
    static func indices(of reg: Int32) -> [UInt8] {
        let r = UInt32(bitPattern: reg)
        switch r {
        case ARM_REG_R0.rawValue...ARM_REG_R12.rawValue: return [UInt8(r - ARM_REG_R0.rawValue)]
        case ARM_REG_SP.rawValue: return [RegisterIndex.stackPointer]
        case ARM_REG_LR.rawValue: return [RegisterIndex.linkRegister]
        case ARM_REG_PC.rawValue: return [RegisterIndex.programCounter]
        case ARM_REG_APSR.rawValue, ARM_REG_APSR_NZCV.rawValue, ARM_REG_CPSR.rawValue: return [RegisterIndex.flags]
        case ARM_REG_FPSCR.rawValue, ARM_REG_FPSCR_NZCV.rawValue: return [RegisterIndex.floatingPointStatus]
        case ARM_REG_S0.rawValue...ARM_REG_S31.rawValue:
            return [RegisterIndex.firstFloatingPoint + UInt8(r - ARM_REG_S0.rawValue)]
        case ARM_REG_D0.rawValue...ARM_REG_D15.rawValue:
            let s = RegisterIndex.firstFloatingPoint + 2 * UInt8(r - ARM_REG_D0.rawValue)
            return [s, s + 1]
        default: return []
        }
    }

    // MARK: The instruction classes

    enum EarlyOperands { case none, all, last, lastTwo }
    enum Accumulator { case none, fourth, firstTwo }

    struct InstructionClass {
        var unit: ExecutionUnit
        var subword = false
        var isLoad = false
        var dual = false
        var barrier = false
        var fused = false
        var earlyOperands: EarlyOperands = .none
        var accumulator: Accumulator = .none
    }

    /// The class of every Capstone instruction id MixQ's firmware uses; anything else is an ALU
    /// instruction. Sources: docs/design.md#cortex-m7-timing and jnk0le's measurements (see
    /// TimingParameters).
    static func classify(_ id: arm_insn) -> InstructionClass {
        switch id {
        case ARM_INS_LDR, ARM_INS_LDREX, ARM_INS_LDRT, ARM_INS_PLD, ARM_INS_PLI:
            return InstructionClass(unit: .load, isLoad: true)
        case ARM_INS_LDRB, ARM_INS_LDRH, ARM_INS_LDRSB, ARM_INS_LDRSH, ARM_INS_LDREXB, ARM_INS_LDREXH,
             ARM_INS_LDRBT, ARM_INS_LDRHT, ARM_INS_LDRSBT, ARM_INS_LDRSHT:
            return InstructionClass(unit: .load, subword: true, isLoad: true)
        case ARM_INS_VLDR:
            return InstructionClass(unit: .load, isLoad: true)
        case ARM_INS_LDRD, ARM_INS_LDREXD:
            return InstructionClass(unit: .load, isLoad: true, dual: true)
        case ARM_INS_STR, ARM_INS_STREX, ARM_INS_STRT, ARM_INS_VSTR:
            return InstructionClass(unit: .store)
        case ARM_INS_STRB, ARM_INS_STRH, ARM_INS_STREXB, ARM_INS_STREXH, ARM_INS_STRBT, ARM_INS_STRHT:
            return InstructionClass(unit: .store, subword: true)
        case ARM_INS_STRD, ARM_INS_STREXD:
            return InstructionClass(unit: .store, dual: true)
        case ARM_INS_LDM, ARM_INS_LDMDB, ARM_INS_POP, ARM_INS_VLDMIA, ARM_INS_VLDMDB, ARM_INS_VPOP:
            return InstructionClass(unit: .loadStoreMultiple, isLoad: true)
        case ARM_INS_STM, ARM_INS_STMDB, ARM_INS_PUSH, ARM_INS_VSTMIA, ARM_INS_VSTMDB, ARM_INS_VPUSH:
            return InstructionClass(unit: .loadStoreMultiple)
        case ARM_INS_MUL, ARM_INS_SMULL, ARM_INS_UMULL, ARM_INS_SMUAD, ARM_INS_SMUADX, ARM_INS_SMUSD, ARM_INS_SMUSDX,
             ARM_INS_SMULBB, ARM_INS_SMULBT, ARM_INS_SMULTB, ARM_INS_SMULTT, ARM_INS_SMULWB, ARM_INS_SMULWT,
             ARM_INS_SMMUL, ARM_INS_SMMULR, ARM_INS_USAD8:
            return InstructionClass(unit: .multiply)
        case ARM_INS_MLA, ARM_INS_MLS, ARM_INS_SMLAD, ARM_INS_SMLADX, ARM_INS_SMLSD, ARM_INS_SMLSDX,
             ARM_INS_SMLABB, ARM_INS_SMLABT, ARM_INS_SMLATB, ARM_INS_SMLATT, ARM_INS_SMLAWB, ARM_INS_SMLAWT,
             ARM_INS_SMMLA, ARM_INS_SMMLAR, ARM_INS_SMMLS, ARM_INS_SMMLSR, ARM_INS_USADA8:
            return InstructionClass(unit: .multiply, accumulator: .fourth)
        case ARM_INS_SMLAL, ARM_INS_UMLAL, ARM_INS_UMAAL, ARM_INS_SMLALD, ARM_INS_SMLALDX, ARM_INS_SMLSLD, ARM_INS_SMLSLDX,
             ARM_INS_SMLALBB, ARM_INS_SMLALBT, ARM_INS_SMLALTB, ARM_INS_SMLALTT:
            return InstructionClass(unit: .multiply, accumulator: .firstTwo)
        case ARM_INS_SDIV, ARM_INS_UDIV:
            return InstructionClass(unit: .divide)
        // Bitfield and DSP: older slot only, never paired with each other.
        case ARM_INS_SBFX, ARM_INS_UBFX, ARM_INS_RBIT, ARM_INS_REV, ARM_INS_REV16, ARM_INS_REVSH:
            return InstructionClass(unit: .dsp, earlyOperands: .all)
        case ARM_INS_BFI, ARM_INS_SXTAB, ARM_INS_SXTAB16, ARM_INS_SXTAH, ARM_INS_UXTAB, ARM_INS_UXTAB16, ARM_INS_UXTAH,
             ARM_INS_PKHBT:
            return InstructionClass(unit: .dsp, earlyOperands: .last)
        case ARM_INS_PKHTB:
            return InstructionClass(unit: .dsp, earlyOperands: .lastTwo)
        case ARM_INS_SSAT, ARM_INS_USAT, ARM_INS_SSAT16, ARM_INS_USAT16, ARM_INS_SXTB16, ARM_INS_UXTB16:
            return InstructionClass(unit: .dsp, earlyOperands: .all)
        case ARM_INS_BFC, ARM_INS_CLZ, ARM_INS_SXTB, ARM_INS_SXTH, ARM_INS_UXTB, ARM_INS_UXTH,
             ARM_INS_QADD, ARM_INS_QSUB, ARM_INS_QDADD, ARM_INS_QDSUB, ARM_INS_QADD16, ARM_INS_QADD8, ARM_INS_QSUB16,
             ARM_INS_QSUB8, ARM_INS_QASX, ARM_INS_QSAX, ARM_INS_SADD16, ARM_INS_SADD8, ARM_INS_SSUB16, ARM_INS_SSUB8,
             ARM_INS_SASX, ARM_INS_SSAX, ARM_INS_UADD16, ARM_INS_UADD8, ARM_INS_USUB16, ARM_INS_USUB8, ARM_INS_UASX,
             ARM_INS_USAX, ARM_INS_SHADD16, ARM_INS_SHADD8, ARM_INS_SHSUB16, ARM_INS_SHSUB8, ARM_INS_SHASX, ARM_INS_SHSAX,
             ARM_INS_UHADD16, ARM_INS_UHADD8, ARM_INS_UHSUB16, ARM_INS_UHSUB8, ARM_INS_UHASX, ARM_INS_UHSAX,
             ARM_INS_UQADD16, ARM_INS_UQADD8, ARM_INS_UQSUB16, ARM_INS_UQSUB8, ARM_INS_UQASX, ARM_INS_UQSAX, ARM_INS_SEL:
            return InstructionClass(unit: .dsp)
        case ARM_INS_TBB, ARM_INS_TBH:
            return InstructionClass(unit: .load, subword: true, isLoad: true, dual: true)
        case ARM_INS_B, ARM_INS_BL, ARM_INS_BLX, ARM_INS_BX, ARM_INS_CBZ, ARM_INS_CBNZ:
            return InstructionClass(unit: .branch)
        case ARM_INS_DMB, ARM_INS_DSB, ARM_INS_ISB:
            return InstructionClass(unit: .system, barrier: true)
        case ARM_INS_MRS, ARM_INS_MSR, ARM_INS_CPS, ARM_INS_SVC, ARM_INS_BKPT, ARM_INS_WFI, ARM_INS_WFE, ARM_INS_UDF,
             ARM_INS_VMRS, ARM_INS_VMSR, ARM_INS_CLREX:
            return InstructionClass(unit: .system)
        case ARM_INS_VADD, ARM_INS_VSUB, ARM_INS_VMUL, ARM_INS_VNMUL, ARM_INS_VABS, ARM_INS_VNEG, ARM_INS_VCVT,
             ARM_INS_VCVTA, ARM_INS_VCVTM, ARM_INS_VCVTN, ARM_INS_VCVTP, ARM_INS_VCVTR, ARM_INS_VCVTB, ARM_INS_VCVTT,
             ARM_INS_VCMP, ARM_INS_VCMPE, ARM_INS_VMAXNM, ARM_INS_VMINNM, ARM_INS_VRINTA, ARM_INS_VRINTM, ARM_INS_VRINTN,
             ARM_INS_VRINTP, ARM_INS_VRINTR, ARM_INS_VRINTX, ARM_INS_VRINTZ, ARM_INS_VSELEQ, ARM_INS_VSELGE,
             ARM_INS_VSELGT, ARM_INS_VSELVS, ARM_INS_VDIV, ARM_INS_VSQRT:
            return InstructionClass(unit: .fpArithmetic)
        case ARM_INS_VFMA, ARM_INS_VFMS, ARM_INS_VFNMA, ARM_INS_VFNMS:
            return InstructionClass(unit: .fpMultiplyAccumulate, fused: true)
        case ARM_INS_VMLA, ARM_INS_VMLS, ARM_INS_VNMLA, ARM_INS_VNMLS:
            return InstructionClass(unit: .fpMultiplyAccumulate)
        case ARM_INS_VMOV:
            return InstructionClass(unit: .fpMove)
        default:
            return InstructionClass(unit: .alu)
        }
    }
}
