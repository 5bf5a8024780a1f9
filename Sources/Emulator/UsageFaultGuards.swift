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
        while offset + 1 < bytes.count {
            let hw1 = UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
            let top = hw1 >> 11
            let wide = top == 0b11101 || top == 0b11110 || top == 0b11111
            let length = wide ? 4 : 2
            let condition = itState & 0xF != 0 ? itState >> 4 : GuardedInstruction.always
            if wide && offset + 3 < bytes.count {
                let hw2 = UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8
                if var instruction = decodeWide(hw1, hw2, address: address &+ UInt32(offset)) {
                    instruction.condition = condition
                    classes |= instruction.classes
                    found?(instruction)
                }
            } else if !wide {
                if var instruction = decodeNarrow(hw1, address: address &+ UInt32(offset)) {
                    instruction.condition = condition
                    classes |= instruction.classes
                    found?(instruction)
                }
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
            guard rn != 15 else { return nil }
            let p = hw1 & 0x0100 != 0, u = hw1 & 0x0080 != 0
            let imm = Int32(hw2 & 0xFF) * 4
            return GuardedInstruction(address: address, classes: GuardClass.alwaysAligned, mnemonic: load ? "LDRD" : "STRD",
                                      base: rn, offset: p ? (u ? imm : -imm) : 0, alignment: 4)
        }
        if hw1 & 0xFFE0 == 0xE840 {
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
