import ArgumentParser
import Emulator
import Foundation

/// `mixq size FILE`: memory use per region of the part (STM32H743 unless `--part`).
struct Size: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show how much of each memory region of the part (STM32H743 by default) a firmware ELF uses.",
        discussion: """
            Counts every allocated section in the region of its run-time address; initialized \
            data (.data and friends) also counts its load image in FLASH. Exits non-zero when a \
            region overflows.
            """
    )

    @Argument(help: "The firmware ELF.")
    var file: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: ArgumentHelp(SharedOption.partHelp, valueName: "part"))
    var part: String = "stm32h743"

    func validate() throws { _ = try SharedOption.part(named: part) }

    func run() throws {
        let report: SizeReport
        do {
            let image = try ELFImage(contentsOf: URL(fileURLWithPath: file))
            report = SizeReport(image: image, part: Part.named(part) ?? .stm32h743)
        } catch {
            throw CommandFailure(error)
        }
        if json {
            try JSONOutput.print(SizeJSON(report: report))
        } else {
            print(SizeTable.render(report))
        }
        if !report.fits {
            let problems = report.regions.filter { $0.overflowBytes > 0 }
                .map { "\($0.region.name) overflows by \($0.overflowBytes) bytes" }
                + report.unplaced.map { "section \(SizeTable.describe($0)) at 0x\(String($0.address, radix: 16)) is in no memory region" }
            throw CommandFailure(message: "image does not fit \(report.part.name): " + problems.joined(separator: "; "))
        }
    }
}

enum SizeTable {
    static func render(_ report: SizeReport) -> String {
        var lines = ["\(report.part.name) memory use",
                     pad("region", 12) + pad("base", 12) + lpad("used", 10) + lpad("capacity", 11) + lpad("use", 8) + "  sections"]
        for usage in report.regions {
            let sections = usage.sections.prefix(4).map { "\($0.name) \($0.bytes)" }.joined(separator: ", ")
                + (usage.sections.count > 4 ? ", ..." : "")
            lines.append(pad(usage.region.name, 12) + pad("0x" + String(format: "%08x", usage.region.base), 12)
                         + lpad("\(usage.usedBytes)", 10) + lpad("\(usage.capacity)", 11)
                         + lpad(String(format: "%.1f%%", usage.percent), 8) + "  " + sections
                         + (usage.overflowBytes > 0 ? "  OVERFLOW by \(usage.overflowBytes) bytes" : ""))
        }
        for section in report.unplaced {
            lines.append("section \(describe(section)) (\(section.size) bytes at 0x\(String(format: "%08x", section.address))) lies in no region")
        }
        return lines.joined(separator: "\n")
    }

    /// A section by name, or by its index in the section header table when the section-name
    /// table gives no name (a damaged or stripped ELF).
    static func describe(_ section: ELFSection) -> String {
        section.name.isEmpty
            ? "#\(section.index) (no name: the ELF's section-name table is missing or damaged)"
            : section.name
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func lpad(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
}

/// The JSON `mixq size --json` prints.
struct SizeJSON: Encodable {
    struct Region: Encodable {
        var name: String
        var base: UInt32
        var used: UInt64
        var capacity: UInt64
        var percent: Double
        var overflow: UInt64
        var sections: [String: UInt64]
    }
    var part: String
    var fits: Bool
    var regions: [Region]

    init(report: SizeReport) {
        part = report.part.name
        fits = report.fits
        regions = report.regions.map { usage in
            Region(name: usage.region.name, base: usage.region.base, used: usage.usedBytes,
                   capacity: usage.capacity, percent: (usage.percent * 100).rounded() / 100,
                   overflow: usage.overflowBytes,
                   sections: Dictionary(usage.sections.map { ($0.name, $0.bytes) }, uniquingKeysWith: +))
        }
    }
}
