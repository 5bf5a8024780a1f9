@testable import Timing
import Testing

/// Thumb-2 encodings (checked with arm-none-eabi-as -mcpu=cortex-m7), little-endian halfwords.
enum Thumb {
    static let addsR1 = [UInt8]([0x01, 0x31])          // adds r1, #1
    static let addsR2 = [UInt8]([0x01, 0x32])          // adds r2, #1
    static let ldrR1 = [UInt8]([0x01, 0x68])           // ldr r1, [r0]
    static let ldrbR1 = [UInt8]([0x01, 0x78])          // ldrb r1, [r0]
    static let addsR2FromR1 = [UInt8]([0x4A, 0x1C])    // adds r2, r1, #1
    static let smlad = [UInt8]([0x22, 0xFB, 0x03, 0x11])  // smlad r1, r2, r3, r1
    static let cmpR1 = [UInt8]([0x00, 0x29])           // cmp r1, #0
    static let bneBack = [UInt8]([0xF4, 0xD1])         // bne.n (backwards)
    static let nop = [UInt8]([0x00, 0xBF])
    static let bxLR = [UInt8]([0x70, 0x47])
    static let uxtb16 = [UInt8]([0x3F, 0xFA, 0x82, 0xF1])  // uxtb16 r1, r2
    static let sadd16 = [UInt8]([0x94, 0xFA, 0x05, 0xF3])  // sadd16 r3, r4, r5
}

/// The static block schedule against hand-worked cycle counts from the rules of
/// docs/design.md#cortex-m7-timing.
@Suite("Block schedule (2-wide in-order Cortex-M7)")
struct BlockScheduleTests {
    let decoder: InstructionDecoder
    let scheduler = BlockScheduler()

    init() throws { decoder = try InstructionDecoder() }

    func schedule(_ parts: [UInt8]...) -> BlockSchedule {
        let bytes = parts.flatMap { $0 }
        return bytes.withUnsafeBytes { scheduler.schedule(decoder.decode($0, address: 0x100)) }
    }

    @Test("independent ALU instructions dual issue; dependent ones do not")
    func aluPairing() {
        #expect(schedule(Thumb.addsR1, Thumb.addsR2).cost == 1)
        #expect(schedule(Thumb.addsR1, Thumb.addsR1).cost == 2)
    }

    @Test("word load feeds the next cycle, byte load one later")
    func loadLatency() {
        // ldr at 0, dependent add at 1: 2 cycles. ldrb: add at 2, 3 cycles.
        #expect(schedule(Thumb.ldrR1, Thumb.addsR2FromR1).cost == 2)
        #expect(schedule(Thumb.ldrbR1, Thumb.addsR2FromR1).cost == 3)
    }

    @Test("MAC accumulator chains issue every cycle (latency 2, accumulator read one stage late)")
    func multiplyAccumulate() {
        let chain = schedule(Thumb.smlad, Thumb.smlad, Thumb.smlad)
        #expect(chain.cost == 3)
        #expect(chain.issueCycles == [0, 1, 2])
    }

    @Test("DSP instructions never pair with each other")
    func dspNeverPaired() {
        #expect(schedule(Thumb.uxtb16, Thumb.sadd16).cost == 2)
        #expect(schedule(Thumb.uxtb16, Thumb.addsR2).cost == 1)
    }

    @Test("inputs record when each register is first needed, outputs how long results pend")
    func inputsAndOutputs() {
        let block = schedule(Thumb.ldrbR1)
        // r0 is read as an address at cycle 0; r1 is ready 2 cycles after issue, 1 after the end.
        #expect(block.inputs.contains(.init(register: 0, role: .address, needed: 0)))
        #expect(block.outputs.contains(.init(register: 1, producer: .subwordLoad, pending: 1)))
    }

    @Test("a block ending in a conditional branch reports it and whether flags were set early")
    func conditionalBranch() {
        let block = schedule(Thumb.cmpR1, Thumb.bneBack)
        #expect(block.branch == .conditional)
        #expect(block.conditionSetEarly == false)
        #expect(schedule(Thumb.bxLR).branch == .return)
    }
}
