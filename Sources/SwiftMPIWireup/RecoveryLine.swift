/// The lists in recovery mode's coordination lines (docs/Recovery.md), which the launcher and the
/// ranks both read and write: comma-separated numbers, `-` for an empty list.
public enum RecoveryLine {
    /// `values` as a line spells them (in hex with `radix` 16).
    public static func list<T: BinaryInteger>(_ values: [T], radix: Int = 10) -> String {
        values.isEmpty ? "-" : values.map { String($0, radix: radix) }.joined(separator: ",")
    }

    /// The numbers of a list field; nil when any is malformed (the line is then ignored).
    public static func parse<T: FixedWidthInteger>(_ text: Substring, radix: Int = 10, as: T.Type = Int.self) -> [T]? {
        if text == "-" { return [] }
        var values: [T] = []
        for part in text.split(separator: ",") {
            guard let value = T(part, radix: radix) else { return nil }
            values.append(value)
        }
        return values
    }
}
