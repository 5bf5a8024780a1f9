import Planning
import Testing

/// The MobilenetV1 builder against published figures and a hand-checked variant.
@Suite struct MobilenetV1Tests {
    // MARK: Published totals (TF-slim model zoo, research/slim/nets/mobilenet_v1.md)

    /// The published MMACs whose figure does not follow from the topology, each with the
    /// independent evidence that our count is the right one (checked in `documentedDiscrepancies`).
    static let macDiscrepancies: Set<String> = [
        "mobilenet_v1_0.75_224", "mobilenet_v1_0.75_192", "mobilenet_v1_0.75_160", "mobilenet_v1_0.75_128",
        "mobilenet_v1_0.5_224", "mobilenet_v1_0.25_192",
    ]

    /// MACs counted over conv, depthwise, pointwise and the classifier (one per weight tap per
    /// output element, padding taps included; pooling adds none). The model zoo rounds MMACs to
    /// integers, so agreement means within 0.5 M. 10 of the 16 rows agree; the other 6 are listed in
    /// `macDiscrepancies`, and a row that disagrees without being listed fails here.
    @Test func multiplyAccumulatesAgreeWithTheModelZoo() throws {
        let zoo = try ReferenceData.modelZoo()
        #expect(zoo.count == 16)
        for entry in zoo where !Self.macDiscrepancies.contains(entry.model) {
            let network = try MobilenetV1(name: entry.model).network()
            let mmacs = Double(network.multiplyAccumulates) / 1e6
            #expect(abs(mmacs - entry.mmacs) <= 0.5, "\(entry.model): \(mmacs) M MACs vs published \(entry.mmacs)")
        }
    }

    /// Parameters counted as weights + biases + 3 batch-norm values per normalized channel
    /// (`Layer.batchNormValuesPerChannel`). The zoo rounds MParams to 2 decimals: within 0.005 M,
    /// all 16 rows. Two or four batch-norm values per channel would miss (4.23 / 4.25 for 1.0).
    @Test func parametersAgreeWithTheModelZooForAllSixteenVariants() throws {
        let zoo = try ReferenceData.modelZoo()
        #expect(zoo.count == 16)
        for entry in zoo {
            let network = try MobilenetV1(name: entry.model).network()
            let mparams = Double(network.parameterCount) / 1e6
            #expect(abs(mparams - entry.mparams) <= 0.005, "\(entry.model): \(mparams) M parameters vs published \(entry.mparams)")
            let batchNormChannels = network.layers.filter(\.usesBatchNorm).reduce(0) { $0 + $1.outputChannels }
            let withTwo = Double(network.weightCount + 1000 + 2 * batchNormChannels) / 1e6
            let withFour = Double(network.weightCount + 1000 + 4 * batchNormChannels) / 1e6
            if entry.model == "mobilenet_v1_1.0_224" {
                // Why three: the alternatives miss the published 4.24 for alpha 1.0.
                #expect(abs(withTwo - entry.mparams) > 0.005)
                #expect(abs(withFour - entry.mparams) > 0.005)
            }
        }
    }

    /// The six rows whose published MMACs disagree with the topology, and the evidence:
    /// - alpha 0.75: TF-slim's own per-layer table for 0.75_128 (mobilenet_v1.py docstring) sums to
    ///   106,002,432 base MACs, plus 768 x 1000 for the classifier = 106.77 M, where the zoo says 104;
    ///   Howard et al. 2017, Table 6 give 325 M mult-adds for 0.75 MobileNet-224, where the zoo says 317.
    ///   At all four resolutions the zoo's figure equals our total minus Conv2d_0 within rounding.
    /// - 0.5_224: the zoo's 150 is 0.503 M from our 149.497 M, just outside integer rounding; Howard
    ///   et al. 2017, Table 6 (also quoted in the Keras MobileNet documentation) give 149.
    /// - 0.25_192: the zoo's 34 breaks the quadratic scaling with resolution that its own 0.25_224
    ///   figure follows: 41 x (192/224)^2 = 30.1, our count is 30.2.
    @Test func documentedDiscrepancies() throws {
        let zoo = Dictionary(uniqueKeysWithValues: try ReferenceData.modelZoo().map { ($0.model, $0) })
        for name in Self.macDiscrepancies {
            let network = try MobilenetV1(name: name).network()
            let mmacs = Double(network.multiplyAccumulates) / 1e6
            let published = try #require(zoo[name]).mmacs
            #expect(abs(mmacs - published) > 0.5, "\(name) now agrees with the zoo; remove it from macDiscrepancies")
            if name.hasPrefix("mobilenet_v1_0.75") {
                let stem = try #require(network.layers.first).multiplyAccumulates
                #expect(abs(Double(network.multiplyAccumulates - stem) / 1e6 - published) <= 0.5, "\(name)")
            }
        }
        // Howard et al. 2017, Table 6: 0.75 MobileNet-224, 325 million mult-adds.
        let threeQuarters224 = try MobilenetV1(name: "mobilenet_v1_0.75_224").network()
        #expect(abs(Double(threeQuarters224.multiplyAccumulates) / 1e6 - 325) <= 0.5)
        // Howard et al. 2017, Table 6: 0.5 MobileNet-224, 149 million mult-adds.
        let half224 = try MobilenetV1(name: "mobilenet_v1_0.5_224").network()
        #expect(abs(Double(half224.multiplyAccumulates) / 1e6 - 149) <= 0.5)
        // TF-slim docstring total for the 0.75_128 base, plus the 768 -> 1000 classifier.
        let threeQuarters128 = try MobilenetV1(name: "mobilenet_v1_0.75_128").network()
        #expect(threeQuarters128.multiplyAccumulates == 106_002_432 + 768 * 1000)
        // 0.25_192 against the scaled published 0.25_224 figure.
        let quarter192 = try MobilenetV1(name: "mobilenet_v1_0.25_192").network()
        let scaled = try #require(zoo["mobilenet_v1_0.25_224"]).mmacs * (192.0 * 192.0) / (224.0 * 224.0)
        #expect(abs(Double(quarter192.multiplyAccumulates) / 1e6 - scaled) <= 0.5)
    }

    // MARK: Per-layer figures (TF-slim mobilenet_v1.py docstring)

    /// Every base layer of 1.0_224 and 0.75_128: weights and MACs exactly as TF-slim lists them.
    @Test func perLayerWeightsAndMACsMatchTFSlim() throws {
        let rows = try ReferenceData.rows("mobilenet_v1_slim_layers")
        #expect(rows.count == 54)
        var networks: [String: Network] = [:]
        for row in rows {
            let model = try #require(row["model"])
            if networks[model] == nil { networks[model] = try MobilenetV1(name: model).network() }
            let network = try #require(networks[model])
            let layer = try #require(network.layers.first { $0.name == row["layer"] }, "\(model) has no \(row["layer"] ?? "")")
            #expect(layer.weightCount == Int(row["params"] ?? ""), "\(model) \(layer.name) weights")
            #expect(layer.multiplyAccumulates == Int(row["macs"] ?? ""), "\(model) \(layer.name) MACs")
        }
    }

    // MARK: 0.25_128 by hand

    /// Shapes, strides and SAME padding of mobilenet_v1_0.25_128, worked out by hand:
    /// channels are max(base x 0.25, 8): 8, 16, 32, 32, 64, 64, 128 x6, 256, 256; a stride-2 3x3
    /// SAME conv on an even side s gives s/2 with total padding (s/2 - 1) x 2 + 3 - s = 1, all after
    /// (top/left 0, bottom/right 1); a stride-1 3x3 pads 1 on every side.
    @Test func quarter128ShapesByHand() throws {
        let network = try MobilenetV1(name: "mobilenet_v1_0.25_128").network()
        let s2 = Padding(top: 0, left: 0, bottom: 1, right: 1)
        let s1 = Padding(top: 1, left: 1, bottom: 1, right: 1)
        func shape(_ h: Int, _ c: Int) -> TensorShape { TensorShape(height: h, width: h, channels: c) }
        // (name, kind, input, output, stride, padding)
        var expected: [(String, LayerKind, TensorShape, TensorShape, Int, Padding)] = [
            ("Conv2d_0", .conv, shape(128, 3), shape(64, 8), 2, s2),
            ("Conv2d_1_depthwise", .depthwise, shape(64, 8), shape(64, 8), 1, s1),
            ("Conv2d_1_pointwise", .pointwise, shape(64, 8), shape(64, 16), 1, .zero),
            ("Conv2d_2_depthwise", .depthwise, shape(64, 16), shape(32, 16), 2, s2),
            ("Conv2d_2_pointwise", .pointwise, shape(32, 16), shape(32, 32), 1, .zero),
            ("Conv2d_3_depthwise", .depthwise, shape(32, 32), shape(32, 32), 1, s1),
            ("Conv2d_3_pointwise", .pointwise, shape(32, 32), shape(32, 32), 1, .zero),
            ("Conv2d_4_depthwise", .depthwise, shape(32, 32), shape(16, 32), 2, s2),
            ("Conv2d_4_pointwise", .pointwise, shape(16, 32), shape(16, 64), 1, .zero),
            ("Conv2d_5_depthwise", .depthwise, shape(16, 64), shape(16, 64), 1, s1),
            ("Conv2d_5_pointwise", .pointwise, shape(16, 64), shape(16, 64), 1, .zero),
            ("Conv2d_6_depthwise", .depthwise, shape(16, 64), shape(8, 64), 2, s2),
            ("Conv2d_6_pointwise", .pointwise, shape(8, 64), shape(8, 128), 1, .zero),
        ]
        for block in 7...11 {
            expected.append(("Conv2d_\(block)_depthwise", .depthwise, shape(8, 128), shape(8, 128), 1, s1))
            expected.append(("Conv2d_\(block)_pointwise", .pointwise, shape(8, 128), shape(8, 128), 1, .zero))
        }
        expected += [
            ("Conv2d_12_depthwise", .depthwise, shape(8, 128), shape(4, 128), 2, s2),
            ("Conv2d_12_pointwise", .pointwise, shape(4, 128), shape(4, 256), 1, .zero),
            ("Conv2d_13_depthwise", .depthwise, shape(4, 256), shape(4, 256), 1, s1),
            ("Conv2d_13_pointwise", .pointwise, shape(4, 256), shape(4, 256), 1, .zero),
            ("Conv2d_1c_1x1", .fc, shape(1, 256), shape(1, 1000), 1, .zero),
        ]
        let layers = network.layers
        #expect(layers.count == 28)
        for (layer, want) in zip(layers, expected) {
            #expect(layer.name == want.0)
            #expect(layer.kind == want.1, "\(layer.name)")
            #expect(layer.input == want.2, "\(layer.name)")
            #expect(layer.output == want.3, "\(layer.name)")
            #expect(layer.stride == want.4, "\(layer.name)")
            #expect(layer.padding == want.5, "\(layer.name)")
            #expect(layer.kernel == (layer.kind == .depthwise || layer.kind == .conv ? .square(3) : .square(1)), "\(layer.name)")
        }
        // Global average pooling sits between Conv2d_13_pointwise and the classifier.
        guard case .globalAveragePool(let pool) = network.steps[network.steps.count - 2] else {
            Issue.record("the second-to-last step is not the global average pool")
            return
        }
        #expect(pool.input == shape(4, 256))
        #expect(pool.output == shape(1, 256))

        // MACs and parameters of a few layers by hand.
        #expect(layers[0].multiplyAccumulates == 64 * 64 * 8 * 27)    // 884,736
        #expect(layers[1].multiplyAccumulates == 64 * 64 * 8 * 9)     // 294,912
        #expect(layers[2].multiplyAccumulates == 64 * 64 * 8 * 16)    // 524,288
        #expect(layers[27].multiplyAccumulates == 256 * 1000)         // 256,000
        #expect(layers[0].parameterCount == 27 * 8 + 3 * 8)           // 216 weights + batch-norm = 240
        #expect(layers[1].parameterCount == 9 * 8 + 3 * 8)            // 72 + 24 = 96
        #expect(layers[27].parameterCount == 256 * 1000 + 1000)       // weights + bias, no batch-norm
    }

    // MARK: Names

    @Test func everyVariantHasAUniqueNameThatParsesBack() throws {
        let variants = MobilenetV1.allVariants
        #expect(variants.count == 16)
        #expect(Set(variants.map(\.name)).count == 16)
        for variant in variants {
            #expect(try MobilenetV1(name: variant.name) == variant)
            let network = try variant.network()
            #expect(network.name == variant.name)
            #expect(network.layers.count == 28)
            #expect(network.output == TensorShape(height: 1, width: 1, channels: 1000))
        }
        #expect(MobilenetV1.allVariants.first?.name == "mobilenet_v1_1.0_224")
    }

    /// The 96x96 variants: MLPerf Tiny's visual-wake-words reference model is MobilenetV1 0.25 at
    /// 96x96x3 with 7,489,664 MACs and a 2-class classifier (mlcommons/tiny, benchmark/training/
    /// visual_wake_words); without its 256 x 2 classifier that is exactly our 0.25_96 without its
    /// 256 x 1000 one. The zoo's 16 variants stay `allVariants`; the 96 ones parse by name.
    @Test func resolution96MatchesMLPerfTinyVisualWakeWords() throws {
        let network = try MobilenetV1(name: "mobilenet_v1_0.25_96").network()
        #expect(network.multiplyAccumulates - 256 * 1000 == 7_489_664 - 256 * 2)
        #expect(network.input == TensorShape(height: 96, width: 96, channels: 3))
        #expect(network.layers[0].output == TensorShape(height: 48, width: 48, channels: 8))
        #expect(MobilenetV1.allVariants.allSatisfy { $0.resolution != .r96 })
        #expect(MobilenetV1.namedVariants.filter { $0.resolution == .r96 }.map(\.name)
                == ["mobilenet_v1_1.0_96", "mobilenet_v1_0.75_96", "mobilenet_v1_0.5_96", "mobilenet_v1_0.25_96"])
        #expect(try BuiltInModels.network(named: "mobilenet_v1_1.0_96").layers.count == 28)
    }

    @Test func unknownModelNameListsTheValidOnes() {
        #expect(throws: ModelNameError.self) { try MobilenetV1(name: "mobilenet_v1_1.0_256") }
        do {
            _ = try MobilenetV1(name: "resnet50")
        } catch {
            #expect(error.validNames.count == 20)   // the 16 of the model zoo and the four at 96x96
            #expect(error.description.contains("unknown model 'resnet50'"))
            #expect(error.description.contains("mobilenet_v1_0.25_128"))
        }
    }
}

/// The network IR on its own: SAME padding, shape checks, typed errors.
@Suite struct NetworkTests {
    @Test func samePaddingFollowsTensorFlow() {
        // TF SAME: out = ceil(in / stride), total = max((out - 1) * stride + kernel - in, 0), smaller half first.
        #expect(Padding.sameAxis(input: 224, kernel: 3, stride: 2) == (112, 0, 1))
        #expect(Padding.sameAxis(input: 112, kernel: 3, stride: 1) == (112, 1, 1))
        #expect(Padding.sameAxis(input: 7, kernel: 3, stride: 2) == (4, 1, 1))    // total (4-1)*2+3-7 = 2
        #expect(Padding.sameAxis(input: 5, kernel: 1, stride: 1) == (5, 0, 0))
        #expect(Padding.sameAxis(input: 6, kernel: 4, stride: 1) == (6, 1, 2))    // total 3: 1 before, 2 after
    }

    @Test func badLayersAndChainsThrowTypedErrors() throws {
        let input = TensorShape(height: 4, width: 4, channels: 2)
        #expect(throws: NetworkError.invalidStride(layer: "c", stride: 0)) {
            try Layer.convolution(name: "c", input: input, outputChannels: 4, kernel: .square(3), stride: 0)
        }
        #expect(throws: NetworkError.fullyConnectedNeedsVector(layer: "fc", input: input)) {
            try Layer.fullyConnected(name: "fc", input: input, outputs: 10)
        }
        #expect(throws: NetworkError.invalidChannelCount(layer: "p", channels: 0)) {
            try Layer.pointwise(name: "p", input: input, outputChannels: 0)
        }
        let a = try Layer.pointwise(name: "a", input: input, outputChannels: 3)
        let b = try Layer.pointwise(name: "b", input: input, outputChannels: 3)   // expects 2 channels, gets 3
        #expect(throws: NetworkError.shapeMismatch(step: "b", expected: a.output, found: input)) {
            try Network(name: "n", input: input, steps: [.layer(a), .layer(b)])
        }
        #expect(throws: NetworkError.duplicateName("a")) {
            let a2 = try Layer.pointwise(name: "a", input: a.output, outputChannels: 3)
            return try Network(name: "n", input: input, steps: [.layer(a), .layer(a2)])
        }
    }
}
