import FirmwareBuild
import Foundation
import Testing

/// `--part`: asking a part for what it lacks is one `error:` line; what it has works.
@Suite struct PartCLITests {
    @Test func whatAPartLacksIsOneErrorLine() throws {
        let hello = try CLITests.elf("hello")
        let clock = try CLITests.mixq("run", hello, "--part", "stm32f412", "--clock-mhz", "480")
        #expect(clock.status != 0)
        #expect(clock.stderr.hasPrefix("error: --clock-mhz must be 84 or 100 on STM32F412 (got 480)"))


        // MobilenetV1 1.0_224 cannot fit 256 KiB of RAM even at 2 bits: the planner says where and by how much.
        let plan = try CLITests.mixq("plan", "--model", "mobilenet_v1_1.0_224", "--part", "stm32f412")
        #expect(plan.status != 0)
        #expect(plan.stderr.hasPrefix("error: "))
        #expect(plan.stderr.contains("262144 B") && plan.stderr.contains("Conv2d_1_pointwise"), "\(plan.stderr)")

        let unknown = try CLITests.mixq("size", hello, "--part", "stm32h999")
        #expect(unknown.status != 0)
        #expect(unknown.stderr.hasPrefix("error: --part must be one of stm32h743, stm32f746, stm32f412"))
    }

    @Test func thePartsBudgetsAreThePlannersDefaults() throws {
        // The paper's 256 kB / 1 MB budget on the STM32F412: MobilenetV1 0.25_128 fits it.
        let plan = try CLITests.mixq("plan", "--model", "mobilenet_v1_0.25_128", "--part", "stm32f412", "--json")
        #expect(plan.status == 0, "\(plan.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        #expect(object["flash_budget"] as? Int == 1_048_576)
        #expect(object["ram_budget"] as? Int == 262_144)
    }
}
