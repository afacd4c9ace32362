/// The profile's pictures, as self-contained SVG files (`swiftmpirun --profile-out DIR`):
/// `heatmap.svg` (bytes from each rank to each rank), `calls.svg` (each rank's time per call kind,
/// stacked) and `sizes.svg` (point-to-point messages by size).
///
/// Each drawn datum carries its numbers as `data-` attributes (a heatmap cell: `data-sender`,
/// `data-receiver`, `data-bytes`, `data-messages`), so programs and tests can read the plots back.
extension Profile {
    /// File names and contents of the plots.
    package var plots: [(name: String, svg: String)] {
        [("heatmap.svg", heatmapSVG), ("calls.svg", callsSVG), ("sizes.svg", sizesSVG)]
    }

    /// `bytes` in at most five characters and a unit: `64 B`, `1.5 KiB`, `1.0 MiB`, `2.3 GiB`.
    static func compactBytes(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return JSONText.fixed(value, value < 100 ? 1 : 0) + " " + units[unit]
    }

    /// A colour from pale to dark blue for `fraction` in 0...1.
    private static func shade(_ fraction: Double) -> String {
        let f = min(max(fraction, 0), 1)
        let channel = { (from: Double, to: Double) in Int((from + (to - from) * f).rounded()) }
        return "rgb(\(channel(247, 8)),\(channel(251, 48)),\(channel(255, 107)))"
    }

    private static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    private static func document(width: Int, height: Int, title: String, _ body: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
        <rect width="\(width)" height="\(height)" fill="white"/>
        <text x="\(width / 2)" y="20" text-anchor="middle" font-size="14" font-weight="bold">\(JSONText.xml(title))</text>
        \(body)</svg>

        """
    }

    /// Bytes (colour, and the figure in the cell up to 16 ranks) from each sender (row) to each receiver (column).
    package var heatmapSVG: String {
        let cell = size <= 16 ? 56 : max(4, 768 / max(size, 1))
        let left = 70, top = 60
        let most = max(bytes.flatMap { $0 }.max() ?? 0, 1)
        var body = ""
        for sender in 0..<size {
            for receiver in 0..<size {
                let value = bytes[sender][receiver]
                let x = left + receiver * cell, y = top + sender * cell
                body += "<rect class=\"cell\" x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(Self.shade(Double(value) / Double(most)))\" "
                body += "stroke=\"#ddd\" data-sender=\"\(sender)\" data-receiver=\"\(receiver)\" data-bytes=\"\(value)\" "
                body += "data-messages=\"\(messages[sender][receiver])\"><title>rank \(sender) → rank \(receiver): \(value) bytes in "
                body += "\(messages[sender][receiver]) messages</title></rect>\n"
                if size <= 16 && value > 0 {
                    let color = Double(value) / Double(most) > 0.5 ? "white" : "black"
                    body += "<text x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"middle\" font-size=\"10\" fill=\"\(color)\">"
                    body += "\(JSONText.xml(Self.compactBytes(value)))</text>\n"
                }
            }
        }
        if size <= 32 {
            for index in 0..<size {
                body += "<text x=\"\(left + index * cell + cell / 2)\" y=\"\(top - 6)\" text-anchor=\"middle\">\(index)</text>\n"
                body += "<text x=\"\(left - 6)\" y=\"\(top + index * cell + cell / 2 + 4)\" text-anchor=\"end\">\(index)</text>\n"
            }
        }
        body += "<text x=\"\(left + size * cell / 2)\" y=\"\(top - 24)\" text-anchor=\"middle\">receiver</text>\n"
        body += "<text x=\"16\" y=\"\(top + size * cell / 2)\" transform=\"rotate(-90 16 \(top + size * cell / 2))\" text-anchor=\"middle\">sender</text>\n"
        return Self.document(width: left + size * cell + 30, height: top + size * cell + 30, title: "Point-to-point bytes between ranks", body)
    }

    /// Each rank's time in each call kind (the eight costliest kinds, the rest as "other"), stacked.
    package var callsSVG: String {
        let shown = calls.filter { !$0.isRegion }.prefix(8)
        let rest = calls.filter { !$0.isRegion }.dropFirst(8)
        let left = 60, top = 40, barHeight = 22, width = 600
        let longest = max(ranks.map { mpiTime[$0] ?? 0 }.max() ?? 0, 1)
        var body = ""
        for (row, rank) in ranks.enumerated() {
            var x = Double(left)
            let y = top + row * (barHeight + 6)
            body += "<text x=\"\(left - 6)\" y=\"\(y + barHeight / 2 + 4)\" text-anchor=\"end\">rank \(rank)</text>\n"
            var segments = shown.enumerated().map { (index, call) in (call.name, call.timePerRank[rank] ?? 0, Self.palette[index % Self.palette.count]) }
            segments.append(("other", rest.reduce(0) { $0 + ($1.timePerRank[rank] ?? 0) }, "#999999"))
            for (name, time, color) in segments where time > 0 {
                let w = Double(width) * Double(time) / Double(longest)
                body += "<rect class=\"segment\" x=\"\(JSONText.fixed(x, 2))\" y=\"\(y)\" width=\"\(JSONText.fixed(w, 2))\" height=\"\(barHeight)\" "
                body += "fill=\"\(color)\" data-rank=\"\(rank)\" data-call=\"\(JSONText.xml(name))\" data-ns=\"\(time)\">"
                body += "<title>rank \(rank): \(JSONText.xml(name)) \(Self.milliseconds(time)) ms</title></rect>\n"
                x += w
            }
        }
        var legendY = top + ranks.count * (barHeight + 6) + 16
        for (index, call) in shown.enumerated() {
            body += "<rect x=\"\(left)\" y=\"\(legendY - 10)\" width=\"12\" height=\"12\" fill=\"\(Self.palette[index % Self.palette.count])\"/>"
            body += "<text x=\"\(left + 18)\" y=\"\(legendY)\">\(JSONText.xml(call.name)) (\(Self.milliseconds(call.totalTime)) ms over all ranks)</text>\n"
            legendY += 18
        }
        if !rest.isEmpty {
            body +=
                "<rect x=\"\(left)\" y=\"\(legendY - 10)\" width=\"12\" height=\"12\" fill=\"#999999\"/>"
                + "<text x=\"\(left + 18)\" y=\"\(legendY)\">other</text>\n"
            legendY += 18
        }
        return Self.document(
            width: left + width + 40, height: legendY + 10, title: "Time in MPI per rank and call (longest bar \(Self.milliseconds(longest)) ms)", body)
    }

    /// Point-to-point messages per size bin.
    package var sizesSVG: String {
        let left = 50, top = 40, plotHeight = 200, barWidth = 60
        let most = max(sizes.map(\.count).max() ?? 0, 1)
        var body = ""
        var previous = -1
        for (index, bin) in sizes.enumerated() {
            let h = plotHeight * bin.count / most
            let x = left + index * (barWidth + 8)
            body += "<rect class=\"bin\" x=\"\(x)\" y=\"\(top + plotHeight - h)\" width=\"\(barWidth)\" height=\"\(h)\" fill=\"#4e79a7\" "
            body += "data-up-to=\"\(bin.upTo == Int.max ? "none" : "\(bin.upTo)")\" data-count=\"\(bin.count)\"><title>\(bin.count) messages</title></rect>\n"
            body += "<text x=\"\(x + barWidth / 2)\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\" font-size=\"10\">"
            body += "\(JSONText.xml(Self.sizeLabel(above: previous, upTo: bin.upTo)))</text>\n"
            if bin.count > 0 {
                body += "<text x=\"\(x + barWidth / 2)\" y=\"\(top + plotHeight - h - 4)\" text-anchor=\"middle\" font-size=\"10\">\(bin.count)</text>\n"
            }
            previous = bin.upTo
        }
        return Self.document(width: left + sizes.count * (barWidth + 8) + 20, height: top + plotHeight + 40, title: "Point-to-point messages by size", body)
    }
}
