import Foundation

/// Live bytes over time as text: one line of block characters, each
/// column the highest live total of its share of the run, with the peak
/// and the run's length beside it.
public enum TimelineChart {
    static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    public static func render(_ timeline: Profile.Timeline, columns: Int = 60) -> [String] {
        let points = timeline.points.filter { $0.count == 2 }
        guard let end = points.map({ $0[0] }).max(), end > 0, let highest = points.map({ $0[1] }).max(), highest > 0
        else { return [] }
        var column = [UInt64](repeating: 0, count: columns)
        var seen = [Bool](repeating: false, count: columns)
        for point in points {
            let index = min(Int(Double(point[0]) / Double(end) * Double(columns)), columns - 1)
            column[index] = max(column[index], point[1])
            seen[index] = true
        }
        // A column with no point of its own carries the one before it.
        for index in 1..<columns where !seen[index] { column[index] = column[index - 1] }
        let bar = String(column.map { value -> Character in
            value == 0 ? " " : levels[min(Int(Double(value) / Double(highest) * Double(levels.count - 1) + 0.5), levels.count - 1)]
        })
        let peakTime = points.first { $0[1] == highest }.map { $0[0] } ?? 0
        return [
            "memory over time (live bytes, \(seconds(end)) in all)",
            "  \(bar)",
            "  peak \(TextReport.bytes(highest)) at \(seconds(peakTime)); at exit \(TextReport.bytes(points.last?[1] ?? 0))",
        ]
    }

    static func seconds(_ nanoseconds: UInt64) -> String {
        let value = Double(nanoseconds) / 1e9
        return value < 1 ? "\(Int((value * 1000).rounded())) ms" : String(format: "%.2f s", value)
    }
}
