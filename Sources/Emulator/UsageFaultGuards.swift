import CUnicorn

/// Instruction classes whose UsageFaults a Cortex-M7 raises but Unicorn does not, as bits of a
/// per-block mask. Which classes are checked depends on SCB registers (`activeGuardClasses`).
///
/// ARMv7-M ARM (DDI 0403E) A3.2.1 "Alignment behavior": LDRD/STRD, LDM/STM, LDREX/STREX (word),
/// LDREXH/STREXH (halfword) and VLDR/VSTR/VLDM/VSTM always fault on a misaligned address;
/// LDR/STR word and halfword only with CCR.UNALIGN_TRP set. B3.2.8 CCR: SDIV/UDIV by zero
/// fault with CCR.DIV_0_TRP set. B3.2.20 CPACR: a floating-point instruction faults (NOCP)
/// while CP10/CP11 are not enabled.
enum GuardClass {
    static let alwaysAligned: UInt8 = 1
    static let trappedAlignment: UInt8 = 2
    static let division: UInt8 = 4
    static let floatingPoint: UInt8 = 8
}

/// One instruction that may raise a UsageFault, decoded once from its encoding: how to compute
/// its address (base + shifted index + offset) or find its divisor when it executes.
struct GuardedInstruction: Sendable {
    static let none: UInt8 = 0xFF
    static let always: UInt8 = 14

    var address: UInt32
    var classes: UInt8
    var mnemonic: String
    var base: UInt8 = none
    var index: UInt8 = none
    var shift: UInt8 = 0
    var offset: Int32 = 0
    /// Required alignment of the access in bytes (1: none).
    var alignment: UInt32 = 1
    var divisor: UInt8 = none
    /// The IT condition it executes under (`always` outside IT blocks).
    var condition: UInt8 = always
    /// Whether the registers it uses are known at the block's entry (`EntryOperand`): then
    /// the check runs in the block hook (cheap) instead of a code hook.
    var entryRelative = false
    /// With `entryRelative`: the base (address without the index), index and divisor.
    var baseOperand = EntryOperand()
    var indexOperand = EntryOperand()
    var divisorOperand = EntryOperand()

    var baseSource: UInt8 { baseOperand.source }
    var baseDelta: Int32 { baseOperand.delta }
}

/// A value known at a block's entry: register `source` at entry (or 0 for `absolute`) plus
/// `delta`; with `loaded`, the word in memory at that address plus `extra` (a pointer the
/// block loads from its stack frame or a literal pool before using it).
struct EntryOperand: Sendable, Equatable {
    static let absolute: UInt8 = 16
    var source: UInt8 = GuardedInstruction.none
    var delta: Int32 = 0
    var loaded = false
    var extra: Int32 = 0

    func adding(_ constant: Int32) -> EntryOperand {
        var moved = self
        if loaded { moved.extra &+= constant } else { moved.delta &+= constant }
        return moved
    }
}

/// What a block's instructions do to r0-r14 before a given instruction, as far as a single
/// forward pass can tell: each register is an `EntryOperand` or unknown. Registers an
/// instruction may write are over-approximated from its encoding's register fields, so a known
/// value is always right; ADD/SUB immediate, MOV, MOVW/MOVT, ADR, word loads with known
/// addresses and load/store write-back keep registers known. A store that may overlap a word a
/// register was loaded from makes that register unknown again.
struct EntryRelativeRegisters {
    private var operands: [EntryOperand?] = (0..<16).map { EntryOperand(source: UInt8($0)) }

    init() { operands[15] = nil }

    func value(_ register: UInt8) -> EntryOperand? {
        register < 15 ? operands[Int(register)] : nil
    }

    mutating func forget(_ mask: UInt16) {
        for r in 0..<16 where mask & (1 << r) != 0 { operands[r] = nil }
    }

    mutating func set(_ register: UInt8, from other: UInt8, plus constant: Int32) {
        guard register < 15 else { return }
        operands[Int(register)] = value(other)?.adding(constant)
    }

    mutating func set(_ register: UInt8, constant: UInt32) {
        guard register < 15 else { return }
        operands[Int(register)] = EntryOperand(source: EntryOperand.absolute, delta: Int32(bitPattern: constant))
    }

    /// Words the block stored with known values at known addresses (a spilled pointer), so a
    /// reload later in the block gets the value back (store-to-load forwarding).
    private var slots: [(address: EntryOperand, value: EntryOperand)] = []
    /// Memory the block wrote so far: a later load from it does not see the word at entry.
    private var clobbered: [(address: EntryOperand, size: Int32)] = []
    private var clobberedAnything = false

    private static func mayOverlap(_ first: EntryOperand, _ firstSize: Int32, _ second: EntryOperand, _ secondSize: Int32) -> Bool {
        guard first.source == second.source, !first.loaded, !second.loaded else { return true }
        let a = Int64(first.delta), b = Int64(second.delta)
        return a < b + Int64(secondSize) && b < a + Int64(firstSize)
    }

    /// `register` = the word at `address` (a known, not itself loaded, address): a word stored
    /// there earlier in the block, or the word there at the block's entry.
    mutating func set(_ register: UInt8, loadedFrom address: EntryOperand?) {
        guard register < 15 else { return }
        guard let address, !address.loaded else { operands[Int(register)] = nil; return }
        if let slot = slots.last(where: { $0.address == address }) {
            operands[Int(register)] = slot.value
            return
        }
        if clobberedAnything || clobbered.contains(where: { Self.mayOverlap($0.address, $0.size, address, 4) }) {
            operands[Int(register)] = nil
            return
        }
        operands[Int(register)] = EntryOperand(source: address.source, delta: address.delta, loaded: true)
    }

    /// A store of `size` bytes at `address` (nil: anywhere); a word store of a known `value`
    /// is remembered for reloads. Registers keep their values: they were loaded before.
    mutating func stored(at address: EntryOperand?, size: Int32, value: EntryOperand? = nil) {
        guard let address, !address.loaded else {
            clobberedAnything = true
            slots.removeAll()
            return
        }
        slots.removeAll { Self.mayOverlap($0.address, 4, address, size) }
        if clobbered.count < 32 { clobbered.append((address, size)) } else { clobberedAnything = true }
        if size == 4, let value, slots.count < 16 { slots.append((address, value)) }
    }
}

/// A Thumb-2 scan of a translated block: the instruction count (ARMv7-M ARM A5.1: a halfword
/// whose top five bits are 0b11101, 0b11110 or 0b11111 starts a 32-bit instruction) and the
/// instructions of `GuardClass`es, with the conditions of IT blocks (A7.7.38 IT, ITSTATE).
/// Encodings: ARMv7-M ARM A5 "The Thumb Instruction Set Encoding" and A7.7 (instruction details).
enum ThumbGuardScanner {
    /// Scans `bytes` at `address`; `found` receives each guarded instruction.
    static func scan(_ bytes: UnsafeRawBufferPointer, address: UInt32,
                     found: ((GuardedInstruction) -> Void)? = nil) -> (count: UInt32, classes: UInt8) {
        var offset = 0
        var count: UInt32 = 0
        var classes: UInt8 = 0
        var itState: UInt8 = 0  // ITSTATE: firstcond[3:0] in bits 7:4, mask in bits 3:0
        var registers = EntryRelativeRegisters()
        let tracking = found != nil
        var earlierNeedsHook = false
        while offset + 1 < bytes.count {
            let hw1 = UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
            let top = hw1 >> 11
            let wide = top == 0b11101 || top == 0b11110 || top == 0b11111
            let length = wide ? 4 : 2
            let condition = itState & 0xF != 0 ? itState >> 4 : GuardedInstruction.always
            let hw2: UInt16? = wide && offset + 3 < bytes.count
                ? UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8 : nil
            let decoded: GuardedInstruction?
            if let hw2 {
                decoded = decodeWide(hw1, hw2, address: address &+ UInt32(offset))
            } else {
                decoded = wide ? nil : decodeNarrow(hw1, address: address &+ UInt32(offset))
            }
            if var instruction = decoded {
                instruction.condition = condition
                classes |= instruction.classes
                if tracking {
                    // An always-checked instruction is checked at the block's entry only while
                    // no earlier one of the block needs a code hook: its faults are then found
                    // in program order. (Ordering against the CCR-enabled classes is not kept.)
                    if condition == GuardedInstruction.always && !earlierNeedsHook { relate(&instruction, to: registers) }
                    if !instruction.entryRelative && instruction.classes & GuardClass.alwaysAligned != 0 {
                        earlierNeedsHook = true
                    }
                    found?(instruction)
                }
            }
            if tracking {
                track(hw1, hw2, wide: wide, conditional: condition != GuardedInstruction.always,
                      address: address &+ UInt32(offset), &registers)
            }
            // Advance ITSTATE (A7.7.38): an IT instruction loads it, every other instruction
            // inside the block shifts the mask.
            if !wide && hw1 & 0xFF00 == 0xBF00 && hw1 & 0x000F != 0 {
                itState = UInt8(hw1 & 0xFF)
            } else if itState & 0xF != 0 {
                itState = itState & 0x7 == 0 ? 0 : (itState & 0xE0) | ((itState << 1) & 0x1F)
            }
            offset += length
            count += 1
        }
        return (count, classes)
    }

    /// Expresses the instruction's registers relative to the block's entry, when known.
    static func relate(_ instruction: inout GuardedInstruction, to registers: EntryRelativeRegisters) {
        if instruction.base != GuardedInstruction.none {
            guard let base = registers.value(instruction.base) else { return }
            instruction.baseOperand = base.adding(instruction.offset)
        }
        if instruction.index != GuardedInstruction.none {
            guard let index = registers.value(instruction.index) else { return }
            instruction.indexOperand = index
        }
        if instruction.divisor != GuardedInstruction.none {
            guard let divisor = registers.value(instruction.divisor) else { return }
            instruction.divisorOperand = divisor
        }
        instruction.entryRelative = true
    }

    /// The memory a store writes, as (address, bytes), or nil when it is not a store; an
    /// address of nil means "not known".
    static func storeRange(_ hw1: UInt16, _ hw2: UInt16?, _ registers: EntryRelativeRegisters) -> (EntryOperand?, Int32)? {
        func at(_ base: UInt8, _ offset: Int32) -> EntryOperand? { registers.value(base)?.adding(offset) }
        guard let hw2 else {
            switch hw1 >> 11 {
            case 0b01100: return (at(UInt8((hw1 >> 3) & 7), Int32((hw1 >> 6) & 0x1F) * 4), 4)  // STR imm
            case 0b01110: return (at(UInt8((hw1 >> 3) & 7), Int32((hw1 >> 6) & 0x1F)), 1)      // STRB imm
            case 0b10000: return (at(UInt8((hw1 >> 3) & 7), Int32((hw1 >> 6) & 0x1F) * 2), 2)  // STRH imm
            case 0b10010: return (at(13, Int32(hw1 & 0xFF) * 4), 4)                           // STR SP
            case 0b11000:                                                                       // STM
                return (at(UInt8((hw1 >> 8) & 7), 0), 4 * Int32((hw1 & 0xFF).nonzeroBitCount))
            default:
                if hw1 & 0xF000 == 0x5000 && (hw1 >> 9) & 7 <= 2 { return (nil, 4) }          // register offset
                if hw1 & 0xFE00 == 0xB400 {                                                     // PUSH
                    let words = Int32((hw1 & 0x1FF).nonzeroBitCount)
                    return (at(13, -4 * words), 4 * words)
                }
                return nil
            }
        }
        let rn = UInt8(hw1 & 0xF)
        if hw1 & 0xFE50 == 0xE840 && hw1 & 0x0120 != 0 {  // STRD
            let imm = Int32(hw2 & 0xFF) * 4
            return (at(rn, hw1 & 0x0100 != 0 ? (hw1 & 0x0080 != 0 ? imm : -imm) : 0), 8)
        }
        if hw1 & 0xFFF0 == 0xE840 { return (at(rn, Int32(hw2 & 0xFF) * 4), 4) }  // STREX
        if hw1 & 0xFFF0 == 0xE8C0 { return (at(rn, 0), 4) }                       // STREXB/H
        if hw1 & 0xFFD0 == 0xE880 { return (at(rn, 0), 4 * Int32(hw2.nonzeroBitCount)) }   // STM.W
        if hw1 & 0xFFD0 == 0xE900 {                                                       // STMDB/PUSH.W
            let words = Int32(hw2.nonzeroBitCount)
            return (at(rn, -4 * words), 4 * words)
        }
        if hw1 & 0xFE10 == 0xEC00 && hw2 & 0x0E00 == 0x0A00 { return (nil, 4) }  // VSTR/VSTM/VPUSH
        if hw1 & 0xFF10 == 0xF800 || hw1 & 0xFF10 == 0xF900 {                     // STR/STRB/STRH (32-bit)
            let size: Int32 = [1, 2, 4, 4][Int((hw1 >> 5) & 3)]
            if hw1 & 0x0080 != 0 { return (at(rn, Int32(hw2 & 0xFFF)), size) }
            if hw2 & 0x0800 != 0 {
                let imm = Int32(hw2 & 0xFF)
                return (at(rn, hw2 & 0x0400 != 0 ? (hw2 & 0x0200 != 0 ? imm : -imm) : 0), size)
            }
            return (nil, size)
        }
        return nil
    }

    /// Updates `registers` for one instruction (A5.2, A5.3 field layouts): known adjustments
    /// first, else every register field of the encoding is taken as written.
    static func track(_ hw1: UInt16, _ hw2: UInt16?, wide: Bool, conditional: Bool, address: UInt32,
                      _ registers: inout EntryRelativeRegisters) {
        func all(_ mask: UInt16) { registers.forget(mask) }
        // Align(PC, 4) as literal loads and ADR read it (A5.1.2: PC = the instruction + 4).
        let literalBase = (address &+ 4) & ~3
        let store = storeRange(hw1, hw2, registers)
        if let store {
            // The register a word store writes out: STR (T1, T2 SP-relative, T3 imm12).
            var source: UInt8?
            if hw2 == nil && hw1 >> 11 == 0b01100 { source = UInt8(hw1 & 7) }
            if hw2 == nil && hw1 >> 11 == 0b10010 { source = UInt8((hw1 >> 8) & 7) }
            if let hw2, hw1 & 0xFFF0 == 0xF8C0 { source = UInt8(hw2 >> 12) }
            registers.stored(at: store.0, size: store.1, value: conditional ? nil : source.flatMap { registers.value($0) })
        }
        guard let hw2 else {
            if wide { all(0xFFFF); return }  // a 32-bit instruction cut by the block's end
            // 16-bit stores other than STM and PUSH write no register.
            if store != nil && hw1 & 0xF000 != 0xC000 && hw1 & 0xFE00 != 0xB400 { return }
            // 16-bit.
            let low = UInt8(hw1 & 7), high = UInt8((hw1 >> 8) & 7), middle = UInt8((hw1 >> 3) & 7)
            if !conditional {
                if hw1 & 0xF000 == 0x3000 {  // ADDS/SUBS Rdn, #imm8
                    registers.set(high, from: high, plus: hw1 & 0x0800 == 0 ? Int32(hw1 & 0xFF) : -Int32(hw1 & 0xFF))
                    return
                }
                if hw1 & 0xFC00 == 0x1C00 {  // ADDS/SUBS Rd, Rn, #imm3
                    let imm = Int32((hw1 >> 6) & 7)
                    registers.set(low, from: middle, plus: hw1 & 0x0200 == 0 ? imm : -imm)
                    return
                }
                if hw1 & 0xF800 == 0x2000 {  // MOVS Rd, #imm8
                    registers.set(high, constant: UInt32(hw1 & 0xFF))
                    return
                }
                if hw1 & 0xF800 == 0xA000 {  // ADR Rd, label
                    registers.set(high, constant: literalBase &+ UInt32(hw1 & 0xFF) * 4)
                    return
                }
                if hw1 & 0xF800 == 0x4800 {  // LDR Rt, [PC, #imm8 * 4]
                    registers.set(high, loadedFrom: EntryOperand(source: EntryOperand.absolute,
                                                                 delta: Int32(bitPattern: literalBase &+ UInt32(hw1 & 0xFF) * 4)))
                    return
                }
                if hw1 & 0xF800 == 0x6800 {  // LDR Rt, [Rn, #imm5 * 4]
                    registers.set(low, loadedFrom: registers.value(middle)?.adding(Int32((hw1 >> 6) & 0x1F) * 4))
                    return
                }
                if hw1 & 0xF800 == 0x9800 {  // LDR Rt, [SP, #imm8 * 4]
                    registers.set(high, loadedFrom: registers.value(13)?.adding(Int32(hw1 & 0xFF) * 4))
                    return
                }
                if hw1 & 0xFF00 == 0x4600 {  // MOV Rd, Rm (any registers)
                    let rd = UInt8(((hw1 >> 4) & 8) | (hw1 & 7)), rm = UInt8((hw1 >> 3) & 0xF)
                    if rd == 15 { return }
                    registers.set(rd, from: rm, plus: 0)
                    return
                }
            }
            if hw1 & 0xF000 == 0xC000 {
                // LDM/STM (T1): Rn += 4 x registers (LDM writes back only when Rn is not listed).
                let list = hw1 & 0xFF
                let load = hw1 & 0x0800 != 0
                if !conditional && !(load && list & (1 << high) != 0) {
                    registers.set(high, from: high, plus: 4 * Int32(list.nonzeroBitCount))
                    if load { all(list) }
                } else {
                    all(1 << high | (load ? list : 0))
                }
                return
            }
            if hw1 & 0xF600 == 0xB400 {  // PUSH/POP
                all(1 << 13 | (hw1 & 0x0800 != 0 ? (hw1 & 0xFF) | (hw1 & 0x0100) << 7 : 0))
                return
            }
            var mask: UInt16 = 1 << low | 1 << high | 1 << 13
            if hw1 & 0xFC00 == 0x4400 { mask |= 1 << (((hw1 >> 4) & 8) | (hw1 & 7)) }
            all(mask)
            return
        }
        let rn = UInt8(hw1 & 0xF), rd = UInt8((hw2 >> 8) & 0xF), rt = UInt8(hw2 >> 12)
        let floatingPoint = hw2 & 0x0E00 == 0x0A00
        if floatingPoint && hw1 & 0xEE00 == 0xEC00 {
            let opcode = (hw1 >> 4) & 0x1F
            if opcode & 0b11110 == 0b00100 {  // VMOV between two core registers and a D/two S registers
                if hw1 & 0x0010 != 0 { all(1 << rt | 1 << rn) }
                return
            }
            if hw1 & 0x0020 != 0 {  // VLDM/VSTM with write-back
                let imm = Int32(hw2 & 0xFF) * 4
                if conditional { all(1 << rn) } else { registers.set(rn, from: rn, plus: hw1 & 0x0080 != 0 ? imm : -imm) }
            }
            return
        }
        if floatingPoint && (hw1 & 0xFF00 == 0xEE00 || hw1 & 0xFF00 == 0xFE00) {
            if hw1 & 0x0010 != 0 && hw2 & 0x0010 != 0 { all(1 << rt) }  // VMOV/VMRS to a core register
            return
        }
        if !conditional {
            if (hw1 & 0xFBE0 == 0xF100 || hw1 & 0xFBE0 == 0xF1A0) && hw2 & 0x8000 == 0 && rn != 15,
               let imm = thumbExpandImmediate(UInt32(hw1 >> 10 & 1) << 11 | UInt32(hw2 >> 12 & 7) << 8 | UInt32(hw2 & 0xFF)) {
                // ADD.W/SUB.W Rd, Rn, #const (T3)
                registers.set(rd, from: rn, plus: hw1 & 0x01E0 == 0x0100 ? Int32(bitPattern: imm) : 0 &- Int32(bitPattern: imm))
                return
            }
            if (hw1 & 0xFBF0 == 0xF200 || hw1 & 0xFBF0 == 0xF2A0) && hw2 & 0x8000 == 0 {
                // ADDW/SUBW Rd, Rn, #imm12 (T4); with Rn = PC, ADR.W
                let imm = Int32(hw1 >> 10 & 1) << 11 | Int32(hw2 >> 12 & 7) << 8 | Int32(hw2 & 0xFF)
                let signed = hw1 & 0xFBF0 == 0xF200 ? imm : -imm
                if rn == 15 {
                    registers.set(rd, constant: literalBase &+ UInt32(bitPattern: signed))
                } else {
                    registers.set(rd, from: rn, plus: signed)
                }
                return
            }
            if (hw1 & 0xFBF0 == 0xF240 || hw1 & 0xFBF0 == 0xF2C0) && hw2 & 0x8000 == 0 {
                // MOVW/MOVT Rd, #imm16 (T3, A7.7.76/A7.7.79)
                let imm16 = UInt32(hw1 & 0xF) << 12 | UInt32(hw1 >> 10 & 1) << 11 | UInt32(hw2 >> 12 & 7) << 8 | UInt32(hw2 & 0xFF)
                if hw1 & 0xFBF0 == 0xF240 {
                    registers.set(rd, constant: imm16)
                } else if let low = registers.value(rd), low.source == EntryOperand.absolute, !low.loaded {
                    registers.set(rd, constant: UInt32(bitPattern: low.delta) & 0xFFFF | imm16 << 16)
                } else {
                    all(1 << rd)
                }
                return
            }
            if hw1 & 0xFFF0 == 0xF8D0 || hw1 == 0xF85F {
                // LDR.W Rt, [Rn, #imm12] and LDR.W Rt, [PC, #-imm12]
                let address: EntryOperand? = rn == 15
                    ? EntryOperand(source: EntryOperand.absolute, delta: Int32(bitPattern: hw1 == 0xF85F
                        ? literalBase &- UInt32(hw2 & 0xFFF) : literalBase &+ UInt32(hw2 & 0xFFF)))
                    : registers.value(rn)?.adding(Int32(hw2 & 0xFFF))
                registers.set(rt, loadedFrom: address)
                return
            }
            if hw1 & 0xFE40 == 0xE840 && hw1 & 0x0120 != 0 && hw1 & 0x0020 != 0 {
                // LDRD/STRD with write-back: Rn += or -= imm8 * 4; LDRD writes Rt and Rt2.
                let imm = Int32(hw2 & 0xFF) * 4
                let loaded: UInt16 = hw1 & 0x0010 != 0 ? 1 << rt | 1 << rd : 0
                registers.set(rn, from: rn, plus: hw1 & 0x0080 != 0 ? imm : -imm)
                all(loaded)
                return
            }
            if (hw1 & 0xFFC0 == 0xE880 || hw1 & 0xFFC0 == 0xE900) && hw1 & 0x0020 != 0 && rn != 13
                && !(hw1 & 0x0010 != 0 && hw2 & (1 << rn) != 0) {
                // LDM/STM (IA or DB) with write-back: Rn += or -= 4 x registers; LDM writes its list.
                let words = Int32(hw2.nonzeroBitCount)
                registers.set(rn, from: rn, plus: hw1 & 0xFFC0 == 0xE900 ? -4 * words : 4 * words)
                if hw1 & 0x0010 != 0 { all(hw2) }
                return
            }
            if hw1 & 0xFE00 == 0xF800 && hw1 & 0x0080 == 0 && hw2 & 0x0900 == 0x0900 && rn != 15 && rn != rt {
                // Load/store single, T4 with write-back: Rn += or -= imm8; a load writes Rt.
                let imm = Int32(hw2 & 0xFF)
                registers.set(rn, from: rn, plus: hw2 & 0x0200 != 0 ? imm : -imm)
                if hw1 & 0x0010 != 0 { all(1 << rt) }
                return
            }
        }
        if hw1 & 0xFE40 == 0xE840 && hw1 & 0x0120 != 0 {  // LDRD/STRD: Rt, Rt2 if loaded; Rn if written back
            all((hw1 & 0x0010 != 0 ? 1 << rt | 1 << rd : 0) | (hw1 & 0x0020 != 0 ? 1 << rn : 0))
            return
        }
        if hw1 & 0xFE00 == 0xF800 {  // load/store single: Rt if loaded; Rn if written back
            let writeBack = hw1 & 0x0080 == 0 && hw2 & 0x0900 == 0x0900
            all((hw1 & 0x0010 != 0 ? 1 << rt : 0) | (writeBack ? 1 << rn : 0))
            return
        }
        if hw1 & 0xFFE0 == 0xE840 {  // LDREX writes Rt, STREX its status register Rd
            all(hw1 & 0x0010 != 0 ? 1 << rt : 1 << rd)
            return
        }
        if (hw1 & 0xFFC0 == 0xE880 || hw1 & 0xFFC0 == 0xE900) && hw1 & 0x0010 == 0 {  // STM/STMDB
            all(hw1 & 0x0020 != 0 ? 1 << rn : 0)
            return
        }
        if hw1 & 0xFFD0 == 0xE890 || hw1 & 0xFFD0 == 0xE910 {  // LDM.W/POP.W: the list and the base
            all(hw2 | 1 << rn)
            return
        }
        if hw1 & 0xFE00 == 0xEA00 || (hw1 & 0xF800 == 0xF000 && hw2 & 0x8000 == 0)
            || hw1 & 0xFF00 == 0xFA00 || hw1 & 0xFF80 == 0xFB00 {
            // Data processing (shifted register, immediate, register) and 32-bit multiplies
            // (A5.3.11-A5.3.16): only Rd, hw2[11:8], is written.
            all(1 << rd)
            return
        }
        if hw1 & 0xF800 == 0xF000 {  // branches and miscellaneous control: BL writes LR, MRS Rd
            all(1 << 14 | 1 << rd)
            return
        }
        // Loads, stores, long multiplies, coprocessor transfers: every register field.
        var mask: UInt16 = 1 << rn | 1 << rd | 1 << rt
        if hw1 & 0xFFF0 == 0xE8C0 { mask |= 1 << (hw2 & 0xF) }  // STREXB/STREXH status register
        all(mask)
    }

    /// ThumbExpandImm (ARMv7-M ARM A5.3.2) of a 12-bit modified immediate.
    static func thumbExpandImmediate(_ imm12: UInt32) -> UInt32? {
        let imm8 = imm12 & 0xFF
        if imm12 >> 10 == 0 {
            switch (imm12 >> 8) & 3 {
            case 0: return imm8
            case 1: return imm8 == 0 ? nil : imm8 << 16 | imm8
            case 2: return imm8 == 0 ? nil : imm8 << 24 | imm8 << 8
            default: return imm8 == 0 ? nil : imm8 << 24 | imm8 << 16 | imm8 << 8 | imm8
            }
        }
        let unrotated = 0x80 | (imm12 & 0x7F)
        let rotation = imm12 >> 7
        return unrotated >> rotation | unrotated << (32 - rotation)
    }

    /// 16-bit encodings (A5.2).
    static func decodeNarrow(_ hw1: UInt16, address: UInt32) -> GuardedInstruction? {
        let low3 = { (shift: UInt16) in UInt8((hw1 >> shift) & 7) }
        switch hw1 >> 12 {
        case 0b1100:  // LDM/STM (T1), Rn = bits 10:8; always word-aligned
            return GuardedInstruction(address: address, classes: GuardClass.alwaysAligned,
                                      mnemonic: hw1 & 0x0800 != 0 ? "LDM" : "STM", base: low3(8), alignment: 4)
        case 0b0110:  // STR/LDR (immediate) T1: word, offset imm5 * 4
            return GuardedInstruction(address: address, classes: GuardClass.trappedAlignment,
                                      mnemonic: hw1 & 0x0800 != 0 ? "LDR" : "STR", base: low3(3),
                                      offset: Int32((hw1 >> 6) & 0x1F) * 4, alignment: 4)
        case 0b1000:  // STRH/LDRH (immediate) T1: halfword, offset imm5 * 2
            return GuardedInstruction(address: address, classes: GuardClass.trappedAlignment,
                                      mnemonic: hw1 & 0x0800 != 0 ? "LDRH" : "STRH", base: low3(3),
                                      offset: Int32((hw1 >> 6) & 0x1F) * 2, alignment: 2)
        case 0b0101:  // load/store (register) T1: opB = bits 11:9
            let opB = (hw1 >> 9) & 7
            let names = ["STR", "STRH", "STRB", "LDRSB", "LDR", "LDRH", "LDRB", "LDRSH"]
            let alignment: UInt32
            switch opB {
            case 0, 4: alignment = 4
            case 1, 5, 7: alignment = 2
            default: return nil
            }
            return GuardedInstruction(address: address, classes: GuardClass.trappedAlignment, mnemonic: names[Int(opB)],
                                      base: low3(3), index: low3(6), alignment: alignment)
        default:
            return nil  // SP- and PC-relative forms use an aligned SP or PC
        }
    }

    /// 32-bit encodings (A5.3).
    static func decodeWide(_ hw1: UInt16, _ hw2: UInt16, address: UInt32) -> GuardedInstruction? {
        let rn = UInt8(hw1 & 0xF)
        let load = hw1 & 0x0010 != 0
        // Coprocessor 10/11 (floating point): A5.3.18 and A6 (FP instruction encodings).
        let floatingPoint = hw2 & 0x0E00 == 0x0A00
        if floatingPoint && hw1 & 0xEE00 == 0xEC00 {
            // 1110 110x: extension register load/store (A6.5) and 64-bit transfers (A6.8).
            let opcode = (hw1 >> 4) & 0x1F
            if opcode & 0b11110 == 0b00100 {
                return GuardedInstruction(address: address, classes: GuardClass.floatingPoint, mnemonic: "VMOV")
            }
            let p = hw1 & 0x0100 != 0, u = hw1 & 0x0080 != 0, w = hw1 & 0x0020 != 0
            let imm = Int32(hw2 & 0xFF) * 4
            var instruction = GuardedInstruction(address: address, classes: GuardClass.floatingPoint, mnemonic: "")
            if p && !w {
                instruction.mnemonic = load ? "VLDR" : "VSTR"
                instruction.offset = u ? imm : -imm
            } else {
                instruction.mnemonic = load ? "VLDM" : "VSTM"
                instruction.offset = p && !u ? -imm : 0
            }
            if rn != 15 && rn != 13 {  // PC-relative literals and VPUSH/VPOP use an aligned base
                instruction.classes |= GuardClass.alwaysAligned
                instruction.base = rn
                instruction.alignment = 4
            }
            return instruction
        }
        if floatingPoint && (hw1 & 0xFF00 == 0xEE00 || hw1 & 0xFF00 == 0xFE00) {
            // VFP data processing, VMOV/VMRS/VMSR (A6.4, A6.6), FPv5 VSEL/VMAXNM/VRINT/VCVT.
            return GuardedInstruction(address: address, classes: GuardClass.floatingPoint, mnemonic: "floating-point instruction")
        }
        if hw1 & 0xFE40 == 0xE840 && hw1 & 0x0120 != 0 {
            // LDRD/STRD (immediate) T1: 1110 100P U1WL; P = 0 and W = 0 is the exclusive group.
            // PC-relative literals are aligned; so is SP, whose bits 1:0 read as zero on ARMv7-M
            // (B1.4.1), with an offset of imm8 * 4.
            guard rn != 15 && rn != 13 else { return nil }
            let p = hw1 & 0x0100 != 0, u = hw1 & 0x0080 != 0
            let imm = Int32(hw2 & 0xFF) * 4
            return GuardedInstruction(address: address, classes: GuardClass.alwaysAligned, mnemonic: load ? "LDRD" : "STRD",
                                      base: rn, offset: p ? (u ? imm : -imm) : 0, alignment: 4)
        }
        if hw1 & 0xFFE0 == 0xE840 && rn != 13 {
            // LDREX/STREX T1: offset imm8 * 4, word-aligned.
            return GuardedInstruction(address: address, classes: GuardClass.alwaysAligned, mnemonic: load ? "LDREX" : "STREX",
                                      base: rn, offset: Int32(hw2 & 0xFF) * 4, alignment: 4)
        }
        if hw1 & 0xFFE0 == 0xE8C0 {
            // LDREXB/H, STREXB/H, TBB/TBH: op3 = hw2 bits 7:4.
            switch (hw2 >> 4) & 0xF {
            case 0b0101:
                return GuardedInstruction(address: address, classes: GuardClass.alwaysAligned,
                                          mnemonic: load ? "LDREXH" : "STREXH", base: rn, alignment: 2)
            case 0b0001 where load && rn != 15:
                return GuardedInstruction(address: address, classes: GuardClass.trappedAlignment, mnemonic: "TBH",
                                          base: rn, index: UInt8(hw2 & 0xF), shift: 1, alignment: 2)
            default:
                return nil
            }
        }
        if hw1 & 0xFFC0 == 0xE880 || hw1 & 0xFFC0 == 0xE900 {
            // LDM/STM IA (T2) and DB (T1/T2); with SP as the base they are POP/PUSH.
            guard rn != 13 else { return nil }
            let decrement = hw1 & 0xFFC0 == 0xE900
            let words = Int32(hw2.nonzeroBitCount)
            return GuardedInstruction(address: address, classes: GuardClass.alwaysAligned,
                                      mnemonic: (load ? "LDM" : "STM") + (decrement ? "DB" : ""),
                                      base: rn, offset: decrement ? -4 * words : 0, alignment: 4)
        }
        if hw1 & 0xFFF0 == 0xFB90 && hw2 & 0x00F0 == 0x00F0 {
            return GuardedInstruction(address: address, classes: GuardClass.division, mnemonic: "SDIV", divisor: UInt8(hw2 & 0xF))
        }
        if hw1 & 0xFFF0 == 0xFBB0 && hw2 & 0x00F0 == 0x00F0 {
            return GuardedInstruction(address: address, classes: GuardClass.division, mnemonic: "UDIV", divisor: UInt8(hw2 & 0xF))
        }
        if hw1 & 0xFE00 == 0xF800 {
            // Load/store single (A5.3.7-A5.3.10): bit 8 sign, bit 7 imm12 form, bits 6:5 size, bit 4 load.
            let size = (hw1 >> 5) & 3
            guard size == 1 || size == 2, rn != 15, !(hw1 & 0x0100 != 0 && !load) else { return nil }
            let rt = hw2 >> 12
            if size == 1 && load && rt == 15 { return nil }  // memory hints
            let halfword = size == 1
            var instruction = GuardedInstruction(
                address: address, classes: GuardClass.trappedAlignment,
                mnemonic: (load ? "LDR" : "STR") + (hw1 & 0x0100 != 0 ? "S" : "") + (halfword ? "H" : ""),
                base: rn, alignment: halfword ? 2 : 4)
            if hw1 & 0x0080 != 0 {
                instruction.offset = Int32(hw2 & 0xFFF)
            } else if hw2 & 0x0800 != 0 {
                let p = hw2 & 0x0400 != 0, u = hw2 & 0x0200 != 0
                let imm = Int32(hw2 & 0xFF)
                instruction.offset = p ? (u ? imm : -imm) : 0
            } else if hw2 & 0x0FC0 == 0 {
                instruction.index = UInt8(hw2 & 0xF)
                instruction.shift = UInt8((hw2 >> 4) & 3)
            } else {
                return nil
            }
            return instruction
        }
        return nil
    }

    /// Whether `condition` (A7.3, table A7-1) holds for the flags in `xpsr`.
    static func conditionPasses(_ condition: UInt8, xpsr: UInt32) -> Bool {
        let n = xpsr & (1 << 31) != 0, z = xpsr & (1 << 30) != 0
        let c = xpsr & (1 << 29) != 0, v = xpsr & (1 << 28) != 0
        let result: Bool
        switch condition >> 1 {
        case 0: result = z
        case 1: result = c
        case 2: result = n
        case 3: result = v
        case 4: result = c && !z
        case 5: result = n == v
        case 6: result = !z && n == v
        default: return true
        }
        return condition & 1 != 0 && condition != 15 ? !result : result
    }
}
