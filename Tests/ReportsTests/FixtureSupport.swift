import Foundation
@testable import Reports

/// The hand-written fixture results (Tests/ReportsTests/Fixtures) and scratch folders.
enum Fixtures {
    static var root: URL {
        get throws {
            guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
                throw FixtureError(message: "Fixtures folder missing from the test bundle")
            }
            return url
        }
    }

    static var shardA: URL { get throws { try root.appendingPathComponent("shard_a") } }
    static var shardB: URL { get throws { try root.appendingPathComponent("shard_b") } }
    static var userAccuracy: URL { get throws { try root.appendingPathComponent("accuracy.csv") } }

    /// The project's shipped table, found from this file's place in the checkout.
    static var publishedAccuracy: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Reports/Resources/published_top1.csv")
    }

    static func both() throws -> ResultCollection {
        try ResultsFolder.load(folders: [shardA, shardB])
    }

    static func published() throws -> AccuracyTable {
        try AccuracyTable(contentsOf: publishedAccuracy, origin: .published)
    }

    static func publishedAndUser() throws -> AccuracyTable {
        try published().overridden(by: AccuracyTable(contentsOf: userAccuracy, origin: .user))
    }

    /// A fresh empty folder under the temporary directory.
    static func scratchFolder(_ name: String = #function) throws -> URL {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("mixq-reports-\(safe)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Copies the fixture file `name` of `shard` into `folder`, optionally editing its JSON text.
    static func copy(_ name: String, from shard: URL, to folder: URL, edit: (String) -> String = { $0 }) throws {
        let text = try String(contentsOf: shard.appendingPathComponent(name), encoding: .utf8)
        try Data(edit(text).utf8).write(to: folder.appendingPathComponent(name))
    }
}

struct FixtureError: Error {
    var message: String
}
