import Emulator

/// The registers MixQ's GDB stub exposes, in the numbering of its target description (GDB
/// manual, "Target Descriptions", "ARM Features": org.gnu.gdb.arm.m-profile and
/// org.gnu.gdb.arm.vfp). `g` and `G` carry them in this order.
enum StubRegisters {
    /// r0-r12, sp, lr, pc = 0-15; xpsr = 16; d0-d15 = 17-32; fpscr = 33.
    static let count = 34

    static func register(number: Int) -> (register: DebugRegister, size: Int)? {
        switch number {
        case 0...15: return (.core(number), 4)
        case 16: return (.xpsr, 4)
        case 17...32: return (.double(number - 17), 8)
        case 33: return (.fpscr, 4)
        default: return nil
        }
    }

    /// The XML GDB reads with `qXfer:features:read:target.xml`.
    static let targetXML: String = {
        var xml = """
            <?xml version="1.0"?>
            <!DOCTYPE target SYSTEM "gdb-target.dtd">
            <target version="1.0">
            <architecture>arm</architecture>
            <feature name="org.gnu.gdb.arm.m-profile">

            """
        for index in 0...12 { xml += "<reg name=\"r\(index)\" bitsize=\"32\" regnum=\"\(index)\"/>\n" }
        xml += """
            <reg name="sp" bitsize="32" type="data_ptr" regnum="13"/>
            <reg name="lr" bitsize="32" regnum="14"/>
            <reg name="pc" bitsize="32" type="code_ptr" regnum="15"/>
            <reg name="xpsr" bitsize="32" regnum="16"/>
            </feature>
            <feature name="org.gnu.gdb.arm.vfp">

            """
        for index in 0...15 {
            xml += "<reg name=\"d\(index)\" bitsize=\"64\" type=\"ieee_double\" regnum=\"\(17 + index)\"/>\n"
        }
        xml += """
            <reg name="fpscr" bitsize="32" type="int" group="float" regnum="33"/>
            </feature>
            </target>

            """
        return xml
    }()
}
