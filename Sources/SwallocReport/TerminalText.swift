/// Strings from a profile or a setting, made safe to print on a terminal.
///
/// A profile is data from another process (function names, paths, the
/// program's name), and settings are whatever the user typed: either may
/// hold escape sequences that retitle a terminal, move its cursor or hide
/// text, or a newline that forges a line of the report. Every control
/// character (C0, DEL and C1), the invisible bidirectional overrides
/// ("Trojan source") and the backslash itself are written as escapes:
/// `\xNN` for a byte-sized code point, `\u{NNNN}` for the others, `\\` for
/// a backslash. Everything else, UTF-8 included, is printed as it is.
public enum TerminalText {
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if !needsEscape(scalar) {
                out.unicodeScalars.append(scalar)
            } else if scalar == "\\" {
                out += "\\\\"
            } else if scalar.value < 0x100 {
                out += "\\x" + hex(scalar.value, digits: 2)
            } else {
                out += "\\u{" + hex(scalar.value, digits: 4) + "}"
            }
        }
        return out
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x5C: return true
        // Bidirectional embeddings, overrides and isolates, and the marks.
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
