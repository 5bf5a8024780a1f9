import Emulator
import FirmwareBuild
import Foundation
import Quantization
@testable import Profiling
import XCTest

/// The DWARF line reader against binutils' addr2line on the same ELF files (an independent
/// implementation), and against malformed input.
final class SourceLineTableTests: XCTestCase {
    /// Every halfword of every sized function, looked up by MixQ and by addr2line.
    private func compareWithAddr2line(_ program: String, extraFlags: [String] = []) throws {
        var spec = FirmwareSpec.testProgram(program)
        spec.extraFlags += extraFlags
        let built = try Toolchain.locate().build(spec)
        let image = try ELFImage(contentsOf: built.elf)
        let table = try SourceLineTable(image: image)
        XCTAssertFalse(table.isEmpty)
        var addresses: [UInt32] = []
        // FLASH code only: ITCM code links at address 0, where the sequences of functions the
        // linker dropped also start, and addr2line may pick one of those (checked separately).
        for symbol in image.symbols where symbol.isFunction && symbol.size > 0 && symbol.address >= 0x0800_0000 {
            for offset in stride(from: 0, to: symbol.size, by: 2) { addresses.append(symbol.address + offset) }
        }
        addresses = Array(addresses.prefix(4000))
        XCTAssertGreaterThan(addresses.count, 100)
        let output = try runTool("arm-none-eabi-addr2line", ["-e", built.elf.path] + addresses.map { "0x" + String($0, radix: 16) })
        let answers = output.split(separator: "\n", omittingEmptySubsequences: false).prefix(addresses.count)
        XCTAssertEqual(answers.count, addresses.count)
        var compared = 0
        for (address, answer) in zip(addresses, answers) {
            // "file:line" or "file:line (discriminator n)"; "??:0" / "??:?" when unknown.
            let text = answer.split(separator: " ").first.map(String.init) ?? ""
            guard let colon = text.lastIndex(of: ":"), let line = Int(text[text.index(after: colon)...]), line > 0 else {
                continue
            }
            let file = String(text[..<colon])
            let ours = table.location(of: address)
            // Before DWARF 5 a relative directory is relative to the unit's DW_AT_comp_dir in
            // .debug_info, which addr2line prepends and the line table alone does not hold.
            let sameFile = ours.map { $0.file == file || (!$0.file.hasPrefix("/") && file.hasSuffix("/" + $0.file)) } ?? false
            XCTAssertEqual(ours?.line, line, "line of 0x\(String(address, radix: 16)) (\(program), addr2line says \(answer))")
            XCTAssertTrue(sameFile, "file of 0x\(String(address, radix: 16)) (\(program)): \(ours?.file ?? "nil") vs \(file)")
            compared += 1
            if ours?.line != line || !sameFile { break }  // one mismatch is enough to read
        }
        XCTAssertGreaterThan(compared, addresses.count / 2)
    }

    func testMatchesAddr2lineOnDWARF5() throws {
        try compareWithAddr2line("profile_calls")
        try compareWithAddr2line("hello")
    }

    func testMatchesAddr2lineOnDWARF4And2() throws {
        try compareWithAddr2line("profile_calls", extraFlags: ["-gdwarf-4"])
        try compareWithAddr2line("profile_calls", extraFlags: ["-gdwarf-2", "-gstrict-dwarf"])
    }

    func testCodeInITCMMapsToItsSource() throws {
        // hello.c runs itcm_triangle from ITCM (address 0x0000xxxx).
        let built = try Toolchain.locate().build(.testProgram("hello"))
        let image = try ELFImage(contentsOf: built.elf)
        let function = try XCTUnwrap(image.symbol(named: "itcm_triangle"))
        XCTAssertLessThan(function.address, 0x0001_0000)
        let source = try String(contentsOf: FirmwareSources.root.appendingPathComponent("tests/hello.c"), encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let first = try XCTUnwrap(lines.firstIndex { $0.contains("int itcm_triangle(int n)") }) + 1
        let location = try XCTUnwrap(try SourceLineTable(image: image).location(of: function.address + 2))
        XCTAssertTrue(location.file.hasSuffix("tests/hello.c"), location.file)
        XCTAssertTrue((first...(first + 7)).contains(location.line), "line \(location.line), function starts at \(first)")
    }

    func testNoDebugInformationLeavesTheProgramWithoutLines() throws {
        var spec = FirmwareSpec.testProgram("profile_calls")
        spec.extraFlags += ["-g0"]
        let built = try Toolchain.locate().build(spec)
        let image = try ELFImage(contentsOf: built.elf)
        let table = try SourceLineTable(image: image)
        // newlib's objects carry their own line tables; the program's functions have none.
        let leaf = try XCTUnwrap(image.symbol(named: "leaf"))
        XCTAssertNil(table.location(of: leaf.address))
        XCTAssertNil(table.location(of: leaf.address + 4))
    }

    func testMalformedLineTablesThrowOrDecodeButNeverTrap() throws {
        let built = try Toolchain.locate().build(.testProgram("profile_calls"))
        let image = try ELFImage(contentsOf: built.elf)
        let section = try XCTUnwrap(image.debugSections[".debug_line"])
        var random = SeededRandom(seed: 0x5EED)
        var failures = 0
        for round in 0..<400 {
            var bytes = section
            switch round % 4 {
            case 0: bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count))))  // truncated
            default:
                for _ in 0..<(1 + Int(random.next() % 8)) {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            do {
                let table = try SourceLineTable(lineSection: bytes, lineStrings: image.debugSections[".debug_line_str"],
                                                strings: image.debugSections[".debug_str"])
                _ = table.location(of: 0x0800_1000)
            } catch {
                failures += 1
                XCTAssertFalse(String(describing: error).isEmpty)
            }
        }
        XCTAssertGreaterThan(failures, 0, "some mutations must be detected")
        XCTAssertThrowsError(try SourceLineTable(lineSection: [0x10, 0, 0, 0, 5, 0], lineStrings: nil, strings: nil))
    }
}

