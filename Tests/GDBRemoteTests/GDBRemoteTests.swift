import GDBRemote
import Testing

/// The packet layer on its own (GDB manual, "Remote Protocol": "Overview", "Binary Data",
/// "Packets"): framing, checksums, escapes, run-length decoding and command parsing, including
/// input no well-behaved GDB sends.
@Suite struct GDBRemoteTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func framesWithChecksumAndEscapes() {
        #expect(GDBPacket.frame("OK") == Self.bytes("$OK#9a"))
        #expect(GDBPacket.frame("") == Self.bytes("$#00"))
        // '$', '#', '}' and '*' are escaped as '}' + byte ^ 0x20; the checksum covers the escaped bytes.
        let framed = GDBPacket.frame([UInt8(ascii: "a"), UInt8(ascii: "#"), UInt8(ascii: "}"), UInt8(ascii: "*")])
        let body: [UInt8] = [0x61, 0x7D, 0x03, 0x7D, 0x5D, 0x7D, 0x0A]
        #expect(framed == [0x24] + body + [0x23] + Self.bytes(String(format2(GDBPacket.checksum(body)))))
    }

    private func format2(_ value: UInt8) -> String {
        let text = String(value, radix: 16)
        return text.count == 1 ? "0" + text : text
    }

    @Test func decodesPacketsAcksAndInterrupts() {
        var decoder = GDBPacketDecoder()
        let items = decoder.feed(Self.bytes("+$g#67-") + [0x03] + Self.bytes("$m0,4#fd"))
        #expect(items == [.acknowledgement, .packet(Self.bytes("g")), .retransmissionRequest, .interrupt,
                          .packet(Self.bytes("m0,4"))])
    }

    @Test func keepsPartialPacketsAcrossFeeds() {
        var decoder = GDBPacketDecoder()
        #expect(decoder.feed(Self.bytes("$qSup")).isEmpty)
        #expect(decoder.feed(Self.bytes("ported#3")).isEmpty)
        #expect(decoder.feed(Self.bytes("7")) == [.packet(Self.bytes("qSupported"))])
    }

    @Test func refusesBadChecksumsAndAcceptsTheRetransmission() {
        var decoder = GDBPacketDecoder()
        #expect(decoder.feed(Self.bytes("$g#00")) == [.malformedPacket(.checksumMismatch(expected: 0x67, received: 0))])
        #expect(decoder.feed(Self.bytes("$g#zz")) == [.malformedPacket(.badChecksumDigits)])
        // GDB answers '-' by sending the same packet again; it then decodes normally.
        #expect(decoder.feed(Self.bytes("$g#67")) == [.packet(Self.bytes("g"))])
    }

    @Test func skipsGarbageAndRestartsOnANewPacketStart() {
        var decoder = GDBPacketDecoder()
        #expect(decoder.feed(Self.bytes("hello\r\n\u{7f}")).isEmpty)
        #expect(decoder.feed(Self.bytes("$qC$g#67")) == [.packet(Self.bytes("g"))])
    }

    @Test func refusesOversizePacketsWithoutBufferingThem() {
        var decoder = GDBPacketDecoder(maximumPacketSize: 16)
        let long = String(repeating: "a", count: 100_000)
        let sum = GDBPacket.checksum(Self.bytes(long))
        let checksum = format2(sum)
        #expect(decoder.feed(Self.bytes("$" + long + "#" + checksum)) == [.malformedPacket(.tooLarge(limit: 16))])
        #expect(decoder.feed(Self.bytes("$g#67")) == [.packet(Self.bytes("g"))], "the decoder recovers")
    }

    @Test func decodesEscapesAndRunLength() {
        // '}' 0x03 is '#'; "0* " is '0' repeated 3 more times (' ' = 32 = 29 + 3).
        #expect(GDBPacket.decodePayload([0x61, 0x7D, 0x03, 0x62]) == [0x61, 0x23, 0x62])
        #expect(GDBPacket.decodePayload(Self.bytes("0* ")) == Self.bytes("0000"))
        #expect(GDBPacket.decodePayload(Self.bytes("x}")) == nil, "dangling escape")
        #expect(GDBPacket.decodePayload(Self.bytes("*  ")) == nil, "run length with nothing to repeat")
        #expect(GDBPacket.decodePayload([0x30, 0x2A, 0x05]) == nil, "count character below the allowed range")
    }

    @Test func binaryWritePacketsCarryEscapedBytes() throws {
        // X packet with the bytes 0x7d ('}'), 0x23 ('#'), 0x00, 0x2a ('*') escaped by GDB.
        let raw: [UInt8] = Self.bytes("X20000000,4:") + [0x7D, 0x5D, 0x7D, 0x03, 0x00, 0x7D, 0x0A]
        var decoder = GDBPacketDecoder()
        let framed = [0x24] + raw + [0x23] + Self.bytes(format2(GDBPacket.checksum(raw)))
        let items = decoder.feed(framed)
        guard case let .packet(payload)? = items.first else {
            Issue.record("expected a packet, got \(items)")
            return
        }
        #expect(try GDBCommand.parse(payload) == .writeMemory(address: 0x2000_0000, bytes: [0x7D, 0x23, 0x00, 0x2A]))
    }

    @Test func hexHelpers() {
        #expect(GDBHex.encode([0x00, 0xAB, 0x10]) == "00ab10")
        #expect(GDBHex.decode("00aB10") == [0x00, 0xAB, 0x10])
        #expect(GDBHex.decode("abc") == nil)
        #expect(GDBHex.decode("zz") == nil)
        #expect(GDBHex.littleEndian(UInt32(0x0800_0040)) == "40000008")
        #expect(GDBHex.littleEndian(UInt64(0x3FF8_0000_0000_0000)) == "000000000000f83f")
        #expect(GDBHex.number("8000040") == 0x800_0040)
        #expect(GDBHex.number("") == nil)
        #expect(GDBHex.number("11112222333344445") == nil, "more than 64 bits")
    }

    @Test func parsesCommands() throws {
        func parse(_ text: String) throws -> GDBCommand { try GDBCommand.parse(Self.bytes(text)) }
        #expect(try parse("qSupported:multiprocess+;swbreak+") == .querySupported(["multiprocess+", "swbreak+"]))
        #expect(try parse("qXfer:features:read:target.xml:0,ffb") == .readFeatures(annex: "target.xml", offset: 0, length: 0xFFB))
        #expect(try parse("?") == .haltReason)
        #expect(try parse("g") == .readRegisters)
        #expect(try parse("G0102") == .writeRegisters([1, 2]))
        #expect(try parse("p11") == .readRegister(17))
        #expect(try parse("P0=2a000000") == .writeRegister(0, [0x2A, 0, 0, 0]))
        #expect(try parse("m8000040,4") == .readMemory(address: 0x800_0040, length: 4))
        #expect(try parse("M20000000,2:abcd") == .writeMemory(address: 0x2000_0000, bytes: [0xAB, 0xCD]))
        #expect(try parse("c") == .continue(address: nil))
        #expect(try parse("s8000040") == .step(address: 0x800_0040))
        #expect(try parse("vCont?") == .resumeActionsQuery)
        #expect(try parse("vCont;c") == .resume(.continue))
        #expect(try parse("vCont;s:1;c") == .resume(.step))
        #expect(try parse("vCont;C05") == .resume(.continueWithSignal(5)))
        #expect(try parse("Z0,8000040,2") == .insertBreakpoint(.software, address: 0x800_0040, length: 2))
        #expect(try parse("z1,8000054,2") == .removeBreakpoint(.hardware, address: 0x800_0054, length: 2))
        #expect(try parse("Z2,20000000,4") == .insertBreakpoint(.writeWatchpoint, address: 0x2000_0000, length: 4))
        #expect(try parse("k") == .kill)
        #expect(try parse("D;1") == .detach)
        #expect(try parse("Hg0") == .setThread)
        #expect(try parse("qC") == .currentThread)
        #expect(try parse("qAttached:1") == .attached)
        #expect(try parse("qfThreadInfo") == .firstThreadInfo)
        #expect(try parse("qsThreadInfo") == .nextThreadInfo)
        #expect(try parse("qOffsets") == .offsets)
        #expect(try parse("qRcmd,6379636c6573") == .monitor("cycles"))
        #expect(try parse("vMustReplyEmpty") == .unsupported("vMustReplyEmpty"))
        #expect(try parse("qTStatus") == .unsupported("qTStatus"))
        #expect(try GDBCommand.parse([]) == .unsupported(""))
    }

    @Test func malformedArgumentsThrowInsteadOfTrapping() {
        for text in ["mzz,4", "m1,", "m,", "M0,4:ab", "Xzz", "X0,2:a", "P=1", "Pz=00", "pzz", "Z9,0,2", "Z0,0",
                     "z0,ffffffffffffffffff,2", "vCont;x", "qRcmd,abc", "qXfer:features:read:target.xml",
                     "Gxyz", "sq", "m0,ffffffff"] {
            #expect(throws: GDBCommandError.self, "\(text)") { try GDBCommand.parse(Self.bytes(text)) }
        }
    }

    @Test func randomBytesNeverTrap() throws {
        var decoder = GDBPacketDecoder(maximumPacketSize: 64)
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            var chunk: [UInt8] = []
            for _ in 0..<Int(seed % 40) {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                // Bias towards the protocol's special characters.
                let specials: [UInt8] = [0x24, 0x23, 0x7D, 0x2A, 0x03, 0x2B, 0x2D, 0x30, 0x66]
                chunk.append(seed >> 61 == 0 ? specials[Int((seed >> 32) % 9)] : UInt8(truncatingIfNeeded: seed >> 33))
            }
            for item in decoder.feed(chunk) {
                if case let .packet(payload) = item { _ = try? GDBCommand.parse(payload) }
            }
            _ = try? GDBCommand.parse(chunk)
            _ = GDBPacket.decodePayload(chunk)
        }
    }

    @Test func stopReplies() {
        #expect(GDBStopReply.signal(5, registers: [(15, "40000008")]).payload == "T05f:40000008;thread:1;")
        #expect(GDBStopReply.exited(3).payload == "W03")
        #expect(GDBStopReply.exited(256).payload == "W00")
        #expect(GDBHex.consoleOutput("hi\n") == "O68690a")
    }
}
