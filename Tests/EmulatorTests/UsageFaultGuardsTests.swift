@testable import Emulator
import Testing

/// The per-block Thumb-2 scan behind the UsageFault checks: which encodings are guarded, and
/// when their registers are known at the block's entry (checked by the block hook) or not
/// (code hook). Encodings from the ARMv7-M ARM (DDI 0403E) A5/A7, assembled by hand and
/// checked against arm-none-eabi-objdump.
@Suite struct UsageFaultGuardsTests {
    private func scan(_ halfwords: [UInt16]) -> [GuardedInstruction] {
        let bytes = halfwords.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        var found: [GuardedInstruction] = []
        _ = bytes.withUnsafeBytes { ThumbGuardScanner.scan($0, address: 0x100) { found.append($0) } }
        return found
    }

    @Test func postIncrementChainsStayKnown() {
        // ldrd r2, r3, [r0], #8 ; ldrd r4, r5, [r0] ; adds r0, #4 ; ldmia.w r0, {r1, r6}
        let found = scan([0xE8F0, 0x2302, 0xE9D0, 0x4500, 0x3004, 0xE890, 0x0042])
        #expect(found.map { $0.mnemonic } == ["LDRD", "LDRD", "LDM"])
        #expect(found.allSatisfy { $0.entryRelative })
        #expect(found.map { $0.baseSource } == [0, 0, 0])
        #expect(found.map { $0.baseDelta } == [0, 8, 12])
    }

    @Test func aBaseLoadedInTheBlockNeedsACodeHook() {
        // ldr r0, [r1] ; ldr r0, [r0] (a pointer loaded through a loaded pointer) ;
        // ldrd r2, r3, [r0] ; mov r4, r7 ; stm r4!, {r1}  (after a hooked one)
        let found = scan([0x6808, 0x6800, 0xE9D0, 0x2300, 0x463C, 0xC402])
        #expect(found.map { $0.mnemonic } == ["LDR", "LDR", "LDRD", "STM"])
        #expect(found[2].entryRelative == false)
        #expect(found[3].entryRelative == false, "after a code-hooked instruction, order is kept by hooks")
    }

    @Test func movAndAddImmediateAreFollowed() throws {
        // mov r4, r7 ; add.w r4, r4, #256 ; subw r5, r4, #3 ; ldrd r0, r1, [r5, #-4]
        let found = scan([0x463C, 0xF504, 0x7480, 0xF2A4, 0x0503, 0xE955, 0x0101])
        let ldrd = try #require(found.first { $0.mnemonic == "LDRD" })
        #expect(ldrd.entryRelative)
        #expect(ldrd.baseSource == 7)
        #expect(ldrd.baseDelta == 256 - 3 - 4)
    }

    @Test func conditionalInstructionsCarryTheirITCondition() {
        // it eq ; ldrdeq r2, r3, [r0] ; sdiv r1, r2, r3
        let found = scan([0xBF08, 0xE9D0, 0x2300, 0xFB92, 0xF1F3])
        #expect(found.map { $0.mnemonic } == ["LDRD", "SDIV"])
        #expect(found[0].condition == 0 && !found[0].entryRelative)
        #expect(found[1].condition == GuardedInstruction.always && found[1].divisor == 3)
    }

    @Test func pushPopAndLiteralsAreNotGuarded() {
        // push {r4, lr} ; pop {r4, pc} ; ldr r0, [pc, #4] ; ldrd r0, r1, [pc, #8] ; vldr s0, [pc, #8]
        #expect(scan([0xB510, 0xBD10, 0x4801, 0xE9DF, 0x0102]).isEmpty)
        let vldr = scan([0xED9F, 0x0A02])
        #expect(vldr.count == 1 && vldr[0].classes == GuardClass.floatingPoint, "only NOCP applies to a literal VLDR")
    }

    @Test func aHookedLoadOfAnotherClassDoesNotForceHooks() {
        // ldr r0, [r0] ; ldr r0, [r0] (words, only checked with UNALIGN_TRP) ; ldr r2, [r0]
        // (base loaded through a loaded pointer: code hook) ; ldrd r4, r5, [r1] (r1 known)
        let found = scan([0x6800, 0x6800, 0x6802, 0xE9D1, 0x4500])
        #expect(found.map { $0.mnemonic } == ["LDR", "LDR", "LDR", "LDRD"])
        #expect(found[2].entryRelative == false)
        #expect(found[3].entryRelative, "the LDRD stays on the cheap path")
    }

    @Test func pointersReloadedFromTheStackAreReadAtEntry() {
        // ldr r3, [sp] ; add.w ip, r3, #16 ; strd fp, sl, [sp, #8] (no overlap) ; ldrd r6, r7, [ip, #-16]
        let found = scan([0x9B00, 0xF103, 0x0C10, 0xE9CD, 0xBA02, 0xE95C, 0x6704])
        let ldrd = found.first { $0.mnemonic == "LDRD" }
        #expect(ldrd?.entryRelative == true)
        #expect(ldrd?.baseOperand == EntryOperand(source: 13, delta: 0, loaded: true, extra: 0))
    }

    @Test func aReloadAfterAStoreThatMayAliasIsNotKnown() {
        // str r1, [r3] (r3 may point at the stack) ; ldr r2, [sp, #4] ; ldrd r0, r1, [r2]
        let found = scan([0x6019, 0x9A01, 0xE9D2, 0x0100])
        #expect(found.first { $0.mnemonic == "LDRD" }?.entryRelative == false)
    }

    @Test func aSpilledPointerIsForwardedToItsReload() {
        // str r1, [sp, #4] ; ldr r2, [sp, #4] ; ldrd r4, r5, [r2]: r2 is r1 at entry
        let found = scan([0x9101, 0x9A01, 0xE9D2, 0x4500])
        let ldrd = found.first { $0.mnemonic == "LDRD" }
        #expect(ldrd?.entryRelative == true)
        #expect(ldrd?.baseOperand == EntryOperand(source: 1, delta: 0))
    }

    @Test func movwMovtAreConstants() {
        // movw r5, #0x1000 ; movt r5, #0x2400 ; ldmia.w r5, {r0, r1}
        let found = scan([0xF241, 0x0500, 0xF2C2, 0x4500, 0xE895, 0x0003])
        #expect(found.count == 1 && found[0].entryRelative)
        #expect(found[0].baseOperand == EntryOperand(source: EntryOperand.absolute, delta: 0x2400_1000))
    }

    @Test func conditionsFollowTableA7_1() {
        // N=1 Z=0 C=1 V=0
        let xpsr: UInt32 = 0b1010 << 28
        let passes = (0..<15).map { ThumbGuardScanner.conditionPasses(UInt8($0), xpsr: xpsr) }
        // EQ NE CS CC MI PL VS VC HI LS GE LT GT LE AL
        #expect(passes == [false, true, true, false, true, false, false, true, true, false, false, true, false, true, true])
    }

    @Test func thumbExpandImmediateFollowsA5_3_2() {
        #expect(ThumbGuardScanner.thumbExpandImmediate(0x0AB) == 0xAB)
        #expect(ThumbGuardScanner.thumbExpandImmediate(0x1AB) == 0x00AB_00AB)
        #expect(ThumbGuardScanner.thumbExpandImmediate(0x2AB) == 0xAB00_AB00)
        #expect(ThumbGuardScanner.thumbExpandImmediate(0x3AB) == 0xABAB_ABAB)
        #expect(ThumbGuardScanner.thumbExpandImmediate(0x400) == 0x8000_0000)  // 0x80 ror 8
        #expect(ThumbGuardScanner.thumbExpandImmediate(0xF80) == 0x100)        // 0x80 ror 31
        #expect(ThumbGuardScanner.thumbExpandImmediate(0x100) == nil)          // UNPREDICTABLE
    }
}
