import Emulator
import FirmwareBuild
import Foundation
import GDBRemote
import GDBStub
import Testing

/// The handler's replies without a socket: what GDB reads for registers, memory, the target
/// description, breakpoints and monitor commands (GDB manual, "Packets").
@Suite struct GDBStubHandlerTests {
    static func handler(_ program: String = "gdb_target") throws -> (GDBStubHandler, ELFImage) {
        let built = try Toolchain.locate().build(.testProgram(program))
        let image = try ELFImage(contentsOf: built.elf)
        let session = try DebugSession(machine: Machine(), image: image, options: RunOptions(timing: .pipeline))
        return (GDBStubHandler(session: session), image)
    }

    static func reply(_ handler: GDBStubHandler, _ packet: String) throws -> [String] {
        handler.replies(to: try GDBCommand.parse(Array(packet.utf8)))
    }

    @Test func targetDescriptionIsServedInChunks() throws {
        let (handler, _) = try Self.handler()
        let supported = try Self.reply(handler, "qSupported:multiprocess+;xmlRegisters=arm")
        #expect(supported.first?.contains("qXfer:features:read+") == true)
        #expect(supported.first?.contains("PacketSize=4000") == true)
        #expect(supported.first?.contains("vContSupported+") == true, "else GDB single-steps with breakpoints")
        var xml = ""
        var offset = 0
        while true {
            let chunk = try #require(try Self.reply(handler, "qXfer:features:read:target.xml:\(String(offset, radix: 16)),100").first)
            xml += chunk.dropFirst()
            offset += chunk.count - 1
            if chunk.hasPrefix("l") { break }
            #expect(chunk.hasPrefix("m"))
        }
        #expect(xml.contains("org.gnu.gdb.arm.m-profile") && xml.contains("org.gnu.gdb.arm.vfp"))
        #expect(xml.components(separatedBy: "<reg ").count - 1 == 34)
        #expect(try Self.reply(handler, "qXfer:features:read:other.xml:0,100") == ["E00"])
    }

    @Test func registersReadAndWrite() throws {
        let (handler, image) = try Self.handler()
        let registers = try #require(try Self.reply(handler, "g").first)
        #expect(registers.count == (16 * 4 + 4 + 16 * 8 + 4) * 2)
        // At reset PC is the reset vector without the Thumb bit; it is register 15 (0xf).
        let resetVector = try #require(image.symbol(named: "Reset_Handler")).address & ~1
        #expect(try Self.reply(handler, "pf") == [GDBHex.littleEndian(resetVector)])
        #expect(try Self.reply(handler, "P0=78563412") == ["OK"])
        #expect(try Self.reply(handler, "p0") == ["78563412"])
        #expect(try Self.reply(handler, "P11=000000000000f83f") == ["OK"], "d0 = 1.5")
        #expect(try Self.reply(handler, "p11") == ["000000000000f83f"])
        #expect(try Self.reply(handler, "p99") == ["E00"])
        #expect(try Self.reply(handler, "P0=12") == ["E00"], "wrong width")
    }

    @Test func memoryReadsWritesAndErrors() throws {
        let (handler, _) = try Self.handler()
        let vectors = try #require(try Self.reply(handler, "m8000000,8").first)
        #expect(vectors.count == 16)
        #expect(try Self.reply(handler, "m60000000,4") == ["E14"])
        #expect(try Self.reply(handler, "M20010000,4:deadbeef") == ["OK"])
        #expect(try Self.reply(handler, "m20010000,4") == ["deadbeef"])
        #expect(try Self.reply(handler, "Mffffff00,4:00000000") == ["E14"])
    }

    @Test func breakpointsContinueAndExit() throws {
        let (handler, image) = try Self.handler()
        let scale = try #require(image.symbol(named: "scale_float")).address & ~1
        #expect(try Self.reply(handler, "Z1,\(String(scale, radix: 16)),2") == ["OK"])
        #expect(try Self.reply(handler, "vCont;c") == ["T05f:\(GDBHex.littleEndian(scale));d:"
                                                          + GDBHex.littleEndian(UInt32(handler.session.readRegister(.core(13))))
                                                          + ";thread:1;"])
        #expect(try Self.reply(handler, "?").first?.hasPrefix("T05") == true)
        #expect(try Self.reply(handler, "z1,\(String(scale, radix: 16)),2") == ["OK"])
        #expect(try Self.reply(handler, "c") == ["W07"])
        #expect(handler.end == .exited(status: 7))
    }

    @Test func monitorAndUnknownPackets() throws {
        let (handler, _) = try Self.handler()
        let help = try Self.reply(handler, "qRcmd," + GDBHex.encode(Array("help".utf8)))
        #expect(help.count == 1)
        let text = String(decoding: GDBHex.decode(help[0]) ?? [], as: UTF8.self)
        #expect(text.contains("monitor cycles"))
        let cycles = String(decoding: GDBHex.decode(try Self.reply(handler, "qRcmd," + GDBHex.encode(Array("cycles".utf8)))[0]) ?? [],
                            as: UTF8.self)
        #expect(cycles.hasPrefix("cycles 0, instructions 0") && cycles.contains("core clock 400 MHz, FLASH 2 wait states"))
        #expect(try Self.reply(handler, "vMustReplyEmpty") == [""])
        #expect(try Self.reply(handler, "qfThreadInfo") == ["m1"])
        #expect(try Self.reply(handler, "qsThreadInfo") == ["l"])
        #expect(try Self.reply(handler, "qC") == ["QC1"])
        #expect(try Self.reply(handler, "k") == [])
        #expect(handler.end == .killed)
    }

    @Test func faultsComeWithAConsoleMessage() throws {
        let (handler, _) = try Self.handler("fault_unmapped_write")
        let replies = try Self.reply(handler, "c")
        #expect(replies.count == 2)
        let message = String(decoding: GDBHex.decode(replies[0].dropFirst()) ?? [], as: UTF8.self)
        #expect(replies[0].hasPrefix("O") && message.contains("0x90000010"), "\(message)")
        #expect(replies[1].hasPrefix("T0b"))
    }
}
