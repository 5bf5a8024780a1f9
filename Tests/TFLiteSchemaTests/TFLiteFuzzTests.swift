import Quantization
import Testing
@testable import TFLiteSchema

/// Hostile TFLite files, as CI runs them on every change (like Tests/EmulatorTests/FuzzTests.swift
/// for the ELF loader): targeted damage (offsets, vtables, vector lengths, dimensions, shared
/// and self-referencing objects) and seeded random mutations. Every case must end in a model or
/// a `TFLiteError`; a trap fails the whole test run. Seeds are fixed, so failures reproduce.
@Suite struct TFLiteFuzzTests {
    /// What a batch of damaged files ended in.
    struct Outcomes: CustomStringConvertible {
        var decoded = 0, rejected = 0
        /// Rejections by error case, e.g. "outOfBounds".
        var reasons: [String: Int] = [:]

        var description: String {
            "\(decoded) decoded, \(rejected) rejected (" + reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ") + ")"
        }

        /// Decodes `bytes` and, if that works, asks every tensor for its element count and
        /// constant data, as an importer would.
        mutating func record(_ bytes: [UInt8]) {
            do {
                let model = try TFLiteModel(bytes: bytes)
                decoded += 1
                for subgraph in model.subgraphs {
                    for tensor in subgraph.tensors {
                        _ = try? tensor.elementCount()
                        _ = try? model.int8Values(of: tensor)
                        _ = try? model.int32Values(of: tensor)
                        _ = try? model.float32Values(of: tensor)
                    }
                    for op in subgraph.operators { _ = model.operatorCode(of: op).name }
                }
            } catch {
                rejected += 1
                reasons[Self.caseName(error), default: 0] += 1
            }
        }

        /// "outOfBounds" for `TFLiteError.outOfBounds(...)`.
        static func caseName(_ error: TFLiteError) -> String {
            Mirror(reflecting: error).children.first?.label ?? "\(error)"
        }
    }

    static func reject(_ bytes: [UInt8]) -> TFLiteError? {
        do {
            _ = try TFLiteModel(bytes: bytes)
            return nil
        } catch {
            return error
        }
    }

    static func put<T: FixedWidthInteger>(_ value: T, at position: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, byte) in raw.enumerated() { bytes[position + i] = byte }
        }
    }

    // MARK: Targeted damage

    @Test func everyTruncationIsATypedError() throws {
        for source in [FlatBufferBuilder.build(SampleModel.tiny), SampleModel.bytesWithExternalData] {
            _ = try TFLiteModel(bytes: source)
            for length in 0..<source.count {
                #expect(Self.reject(Array(source.prefix(length))) != nil, "a \(length)-byte prefix of \(source.count) decoded")
            }
        }
    }

    @Test func rootOffsetOutsideTheFile() {
        var bytes = FlatBufferBuilder.build(SampleModel.tiny)
        for value: UInt32 in [0xFFFF_FFFF, 0x8000_0000, UInt32(bytes.count), UInt32(bytes.count - 2)] {
            Self.put(value, at: 0, in: &bytes)
            let error = Self.reject(bytes)
            #expect(error != nil, "root offset \(value)")
        }
        Self.put(UInt32(0xFFFF_FFFF), at: 0, in: &bytes)
        guard case .outOfBounds(let path, _, _, let fileSize)? = Self.reject(bytes) else {
            Issue.record("expected outOfBounds")
            return
        }
        #expect(path == "Model" && fileSize == bytes.count)
    }

    @Test func vtableOffsetsPointingOutside() {
        let (valid, layout) = FlatBufferBuilder.buildWithLayout(SampleModel.tiny)
        let root = layout.tables[0]
        for soffset: Int32 in [Int32.max, Int32.min, Int32(root + 1), -Int32(valid.count), Int32(-2)] {
            var bytes = valid
            Self.put(soffset, at: root, in: &bytes)
            guard case .badVTable(let path, let table, _, _)? = Self.reject(bytes) else {
                Issue.record("soffset \(soffset): expected badVTable, got \(String(describing: Self.reject(bytes)))")
                continue
            }
            #expect(path == "Model" && table == root)
        }
        // A vtable whose size is odd, too small, or runs past the end; a field outside the table.
        let vtable = root - Int(Int32(littleEndian: valid.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: root, as: Int32.self) }))
        for (offset, value): (Int, UInt16) in [(0, 3), (0, 2), (0, 0xFFFE), (2, 2), (4, 0xFFF0), (4, 2)] {
            var bytes = valid
            Self.put(value, at: vtable + offset, in: &bytes)
            guard case .badVTable? = Self.reject(bytes) else {
                Issue.record("vtable +\(offset) = \(value): \(String(describing: Self.reject(bytes)))")
                continue
            }
        }
    }

    @Test func hugeVectorLengthsAreRefusedBeforeAllocation() {
        let (valid, layout) = FlatBufferBuilder.buildWithLayout(SampleModel.tiny)
        #expect(layout.vectors.count > 5)
        for vector in layout.vectors {
            for count: UInt32 in [0x8000_0000, 0xFFFF_FFFF, 0x4000_0000, UInt32(valid.count)] {
                var bytes = valid
                Self.put(count, at: vector, in: &bytes)
                guard case .vectorTooLong(_, let at, let claimed, _, let available)? = Self.reject(bytes) else {
                    Issue.record("vector at \(vector) with count \(count): \(String(describing: Self.reject(bytes)))")
                    continue
                }
                #expect(at == vector && claimed == count && available < valid.count)
            }
        }
    }

    @Test func absurdDimensionsAreTypedErrors() throws {
        for shape: [Int32] in [[Int32.max], [Int32.max, Int32.max], [-1, 2], [Int32.min], [65536, 65536], [2, 0]] {
            let bytes = FlatBufferBuilder.build(Schema.model(
                codes: [], subgraphs: [Schema.subgraph(
                    tensors: [Schema.tensor(shape: shape, type: SampleModel.int8, buffer: 1, name: "w")],
                    inputs: [0], outputs: [0], operators: [])],
                buffers: [Schema.buffer(nil), Schema.buffer([1, 2, 3, 4])]))
            let model = try TFLiteModel(bytes: bytes)
            let tensor = model.mainSubgraph.tensors[0]
            #expect(tensor.shape == shape.map(Int.init))
            #expect(throws: TFLiteError.self, "shape \(shape)") { try model.int8Values(of: tensor) }
        }
    }

    @Test func indicesOutOfRangeAreTypedErrors() {
        func model(opcode: UInt32 = 0, inputs: [Int32] = [0], subgraphInputs: [Int32] = [0], buffer: UInt32 = 1) -> [UInt8] {
            FlatBufferBuilder.build(Schema.model(
                codes: [Schema.opcode(builtin: 3, deprecated: 3)],
                subgraphs: [Schema.subgraph(
                    tensors: [Schema.tensor(shape: [1], type: SampleModel.int8, buffer: buffer, name: "t")],
                    inputs: subgraphInputs, outputs: [0], operators: [Schema.op(opcode, inputs, [0])])],
                buffers: [Schema.buffer(nil), Schema.buffer([1])]))
        }
        #expect(Self.reject(model()) == nil)
        #expect(Self.reject(model(inputs: [0, -1])) == nil, "-1 marks an omitted optional input")
        for bytes in [model(opcode: 1), model(opcode: .max), model(inputs: [1]), model(inputs: [-2]), model(inputs: [.min]),
                      model(subgraphInputs: [-1]), model(subgraphInputs: [5]), model(buffer: 2), model(buffer: .max)] {
            guard case .invalidValue(let path, _, let reason)? = Self.reject(bytes) else {
                Issue.record("expected invalidValue, got \(String(describing: Self.reject(bytes)))")
                continue
            }
            #expect(path.hasPrefix("Model.subgraphs[0].") && reason.contains("out of range"), "\(path): \(reason)")
        }
    }

    @Test func unknownEnumValuesAreTypedErrors() {
        func model(type: Int8 = 9, padding: Int8 = 0, activation: Int8 = 0) -> [UInt8] {
            FlatBufferBuilder.build(Schema.model(
                codes: [Schema.opcode(builtin: 3, deprecated: 3)],
                subgraphs: [Schema.subgraph(
                    tensors: [Schema.tensor(shape: [1], type: type, name: "t")], inputs: [0], outputs: [0],
                    operators: [Schema.op(0, [0], [0], options: (1, FBTable([0: .int8(padding), 3: .int8(activation)])))])],
                buffers: [Schema.buffer(nil)]))
        }
        #expect(Self.reject(model()) == nil)
        for bytes in [model(type: 23), model(type: -1), model(padding: 2), model(activation: 6), model(activation: -128)] {
            guard case .invalidValue? = Self.reject(bytes) else {
                Issue.record("expected invalidValue, got \(String(describing: Self.reject(bytes)))")
                continue
            }
        }
    }

    /// `uoffset`s only point forward, so the only "cycle" a file can express is an offset of 0
    /// (an object at the offset's own position) or objects shared by many references.
    @Test func selfReferencesAndSharedObjects() {
        let (valid, layout) = FlatBufferBuilder.buildWithLayout(SampleModel.tiny)
        let root = layout.tables[0]
        // The root table's vectors (operator_codes, subgraphs, buffers) set to offset 0: each
        // then reads its own offset, 0, as its count, and the model's references fail.
        let vtable = root - Int(Int32(littleEndian: valid.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: root, as: Int32.self) }))
        for slot in [1, 2, 4] {
            let entry = Int(UInt16(valid[vtable + 4 + 2 * slot]) | UInt16(valid[vtable + 5 + 2 * slot]) << 8)
            var bytes = valid
            Self.put(UInt32(0), at: root + entry, in: &bytes)
            #expect(Self.reject(bytes) != nil, "slot \(slot) pointing at itself")
        }
        // A tensors vector of 40 000 references to one tensor with a 40 000-dimension shape:
        // a 320 KB file that would decode to 1.6 billion dimensions.
        let shared = FlatBufferBuilder.build(Schema.model(
            codes: [], subgraphs: [FBTable([0: .sharedTables(count: 40_000,
                                                               Schema.tensor(shape: Array(repeating: 1, count: 40_000),
                                                                             type: 9, name: "x"))])],
            buffers: []))
        #expect(shared.count < 400_000)
        guard case .decodeBudgetExceeded(_, let fileSize, let budget)? = Self.reject(shared) else {
            Issue.record("expected decodeBudgetExceeded, got \(String(describing: Self.reject(shared)))")
            return
        }
        #expect(fileSize == shared.count && budget < 20 * shared.count)
        // The same with one long name instead of a long shape.
        let named = FlatBufferBuilder.build(Schema.model(
            codes: [], subgraphs: [FBTable([0: .sharedTables(count: 40_000,
                                                               Schema.tensor(shape: [1], type: 9,
                                                                             name: String(repeating: "n", count: 160_000)))])],
            buffers: []))
        guard case .decodeBudgetExceeded? = Self.reject(named) else {
            Issue.record("expected decodeBudgetExceeded, got \(String(describing: Self.reject(named)))")
            return
        }
        // Sharing within the budget (a few tensors reusing one table) still decodes.
        let few = FlatBufferBuilder.build(Schema.model(
            codes: [], subgraphs: [FBTable([0: .sharedTables(count: 3, Schema.tensor(shape: [1, 2], type: 9, name: "x"))])],
            buffers: []))
        #expect(Self.reject(few) == nil)
    }

    @Test func stringsMustEndInAZeroByte() throws {
        var bytes = FlatBufferBuilder.build(SampleModel.tiny)
        let description = try #require(bytes.firstRange(of: [1, 0, 0, 0, UInt8(ascii: "t"), 0]))
        bytes[description.upperBound - 1] = UInt8(ascii: "!")
        guard case .invalidValue(let path, _, _)? = Self.reject(bytes) else {
            Issue.record("expected invalidValue, got \(String(describing: Self.reject(bytes)))")
            return
        }
        #expect(path == "Model.description")
    }

    @Test func unionWithTypeButNoValue() {
        let bytes = FlatBufferBuilder.build(Schema.model(
            codes: [Schema.opcode(builtin: 3, deprecated: 3)],
            subgraphs: [Schema.subgraph(tensors: [], inputs: [], outputs: [],
                                        operators: [FBTable([0: .uint32(0), 3: .uint8(1)])])],
            buffers: []))
        guard case .invalidValue(let path, _, _)? = Self.reject(bytes) else {
            Issue.record("expected invalidValue, got \(String(describing: Self.reject(bytes)))")
            return
        }
        #expect(path == "Model.subgraphs[0].operators[0].builtin_options")
    }

    @Test func externalBufferOutsideTheFile() {
        for (offset, size): (UInt64, UInt64) in [(.max, 4), (2, .max), (1 << 40, 1), (2, 1 << 63), (.max - 1, 2)] {
            let bytes = FlatBufferBuilder.build(Schema.model(codes: [], subgraphs: [Schema.subgraph(tensors: [], inputs: [], outputs: [], operators: [])],
                                                             buffers: [Schema.externalBuffer(offset: offset, size: size)]))
            guard case .outOfBounds(let path, _, _, _)? = Self.reject(bytes) else {
                Issue.record("offset \(offset) size \(size): \(String(describing: Self.reject(bytes)))")
                continue
            }
            #expect(path == "Model.buffers[0].offset")
        }
    }

    // MARK: Random damage

    static let caseCount = 4_000

    /// Seeded random damage of the sample model: byte flips, and 32-bit words at 4-aligned
    /// positions (where offsets and counts live) set to boundary values.
    @Test func randomMutationsNeverTrap() {
        let valid = SampleModel.bytesWithExternalData
        var random = SeededRandom(seed: 0x5446_4C33)
        var outcomes = Outcomes()
        let specials: [UInt32] = [0, 1, 4, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFC, UInt32(valid.count), 0xFFFF, 0x1_0000]
        let started = ContinuousClock.now
        for index in 0..<Self.caseCount {
            var bytes = valid
            let edits = 1 + Int(random.next() % 4)
            for _ in 0..<edits {
                let position = Int(random.next() % UInt64(bytes.count))
                switch (index + Int(random.next() % 3)) % 3 {
                case 0:
                    bytes[position] ^= UInt8(1 << (random.next() % 8))
                case 1:
                    bytes[position] = UInt8(truncatingIfNeeded: random.next())
                default:
                    let word = min(position & ~3, bytes.count - 4)
                    Self.put(specials[Int(random.next() % UInt64(specials.count))], at: word, in: &bytes)
                }
            }
            // Some cases keep damage away from the header so the model is reached.
            if index % 4 == 0 { bytes.replaceSubrange(0..<8, with: valid[0..<8]) }
            outcomes.record(bytes)
        }
        print("TFLite fuzz: \(Self.caseCount) cases, \(outcomes) in \(ContinuousClock.now - started)")
        #expect(outcomes.decoded + outcomes.rejected == Self.caseCount)
        #expect(outcomes.decoded > 0 && outcomes.rejected > 0, "\(outcomes)")
    }

    /// The converter's own layout (built back to front, shared vtables, negative vtable
    /// offsets): every truncation and seeded random damage of a converter-made file.
    @Test(arguments: ConverterFixtureTests.committed) func damagedConverterFiles(_ name: String) throws {
        let valid = try ConverterFixtureTests.load(name).bytes
        var truncations = Outcomes()
        for length in 0..<valid.count { truncations.record(Array(valid.prefix(length))) }
        // Bytes no object covers (alignment padding) may go; a truncation that decodes must
        // have lost nothing the reader uses.
        #expect(truncations.rejected >= valid.count * 9 / 10, "\(truncations)")
        var random = SeededRandom(seed: 0x4C69_7465)
        var outcomes = Outcomes()
        for _ in 0..<1_000 {
            var bytes = valid
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let position = Int(random.next() % UInt64(bytes.count))
                if random.next() % 2 == 0 {
                    bytes[position] = UInt8(truncatingIfNeeded: random.next())
                } else {
                    let word = min(position & ~3, bytes.count - 4)
                    Self.put(UInt32(truncatingIfNeeded: random.next() >> UInt64(random.next() % 32)), at: word, in: &bytes)
                }
            }
            outcomes.record(bytes)
        }
        print("TFLite fuzz of \(name): truncations \(truncations.decoded) decoded / \(truncations.rejected) rejected; "
              + "mutations \(outcomes)")
        #expect(outcomes.decoded > 0 && outcomes.rejected > 0, "\(outcomes)")
    }

    @Test func randomBytesWithATFLiteHeader() {
        var random = SeededRandom(seed: 314)
        var outcomes = Outcomes()
        for _ in 0..<2_000 {
            var bytes = (0..<Int(random.next() % 400)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if bytes.count >= 8 {
                bytes.replaceSubrange(4..<8, with: TFLiteModel.fileIdentifier)
                // A root offset inside the file.
                Self.put(UInt32(random.next() % UInt64(bytes.count)), at: 0, in: &bytes)
            }
            outcomes.record(bytes)
        }
        #expect(outcomes.rejected > 0, "\(outcomes)")
    }
}
