import Emulator
import Testing

/// The start-up code, semihosting output and exit status, through `firmware/tests/hello.c`.
@Suite struct StartupTests {
    @Test func helloPrintsEveryLineAndExitsZero() throws {
        let result = try FirmwareFixtures.run("hello")
        #expect(result.stdout == """
            Hello from the emulated STM32H743!
            int -42 unsigned 4000000000 hex 0xdeadbeef string cortex-m7
            float 3.250 negative -7
            itcm 1176 dtcm 0x600dcafe data 0x0badf00d bss 0 axisram 0x12345678

            """)
        #expect(result.stderr == "hello: a line on stderr\n")
        #expect(result.exitStatus == 0)
        #expect(result.instructions > 1000)
    }

    @Test func mainsReturnValueIsTheExitStatus() throws {
        let result = try FirmwareFixtures.run("exit_status")
        #expect(result.stdout == "exiting with 3\n")
        #expect(result.exitStatus == 3)
    }

    @Test func outputUpToAFaultIsKept() throws {
        // The run that faults has printed "before"; the error carries the fault, and stdout of
        // the CLI shows the line because output is echoed as it is produced.
        let error = try FirmwareFixtures.runExpectingError("fault_unmapped_read")
        #expect(error.description.contains("0x60000000"))
    }
}
