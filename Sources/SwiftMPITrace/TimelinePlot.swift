/// A picture of the merged trace, `timeline.svg` beside `trace.json`: one track per rank, its MPI
/// calls as coloured bars (waiting shows as long bars), the user's regions as a thin band above
/// them, and every paired message as a line from the sending call to the receiving one — the view
/// ui.perfetto.dev gives, as one static file for a README or a report.
package enum TimelinePlot {
    /// The name of the file in the trace directory.
    package static let fileName = "timeline.svg"

    private static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]

    /// The SVG text for `traces`, `width` pixels wide for the time axis.
    package static func svg(_ traces: [RankTrace], width: Int = 900) -> String {
        let traces = RankTrace.distinct(traces)
        let times = traces.flatMap { trace in trace.events.flatMap { [trace.aligned($0.start), trace.aligned($0.end)] } }
        guard let first = times.min(), let last = times.max() else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" height=\"40\"><text x=\"10\" y=\"25\">no events</text></svg>\n"
        }
        let span = Double(max(last - first, 1))
        let left = 80, top = 40, track = 34
        func x(_ time: Int64) -> String { JSONText.fixed(Double(left) + Double(time - first) / span * Double(width), 2) }
        var colours: [String: String] = [:]
        var body = ""
        var rows: [Int: Int] = [:]
        for (row, trace) in traces.enumerated() {
            rows[trace.rank] = row
            let y = top + row * track
            body += "<text x=\"\(left - 8)\" y=\"\(y + 20)\" text-anchor=\"end\">rank \(trace.rank)</text>\n"
            body += "<line x1=\"\(left)\" y1=\"\(y + 16)\" x2=\"\(left + width)\" y2=\"\(y + 16)\" stroke=\"#ddd\"/>\n"
            for event in trace.events where event.kind == .call || event.kind == .region {
                let start = trace.aligned(event.start), end = trace.aligned(event.end)
                let widthText = JSONText.fixed(max(Double(end - start) / span * Double(width), 0.5), 2)
                if event.kind == .region {
                    body += "<rect class=\"region\" x=\"\(x(start))\" y=\"\(y + 2)\" width=\"\(widthText)\" height=\"5\" fill=\"#888\">"
                    body += "<title>region \(JSONText.xml(event.name))</title></rect>\n"
                    continue
                }
                let colour = colours[event.name] ?? palette[colours.count % palette.count]
                colours[event.name] = colour
                body += "<rect class=\"call\" x=\"\(x(start))\" y=\"\(y + 9)\" width=\"\(widthText)\" height=\"14\" fill=\"\(colour)\" "
                body += "data-rank=\"\(trace.rank)\" data-call=\"\(JSONText.xml(event.name))\"><title>rank \(trace.rank): \(JSONText.xml(event.name))"
                body += event.peer >= 0 ? " peer \(event.peer)" : ""
                body += ", \(JSONText.microseconds(end - start)) µs</title></rect>\n"
            }
        }
        let byRank = Dictionary(traces.map { ($0.rank, $0) }, uniquingKeysWith: { first, _ in first })
        for flow in MessageFlows(traces).flows {
            guard let sender = byRank[flow.sender], let receiver = byRank[flow.receiver], let from = rows[flow.sender], let to = rows[flow.receiver]
            else { continue }
            let sent = sender.aligned(sender.events[flow.sendEvent].start), received = receiver.aligned(receiver.events[flow.receiveEvent].start)
            let y1 = top + from * track + (to > from ? 23 : 9), y2 = top + to * track + (to > from ? 9 : 23)
            body += "<line class=\"message\" x1=\"\(x(sent))\" y1=\"\(y1)\" x2=\"\(x(received))\" y2=\"\(y2)\" stroke=\"black\" stroke-width=\"0.6\" "
            body += "marker-end=\"url(#arrow)\"><title>\(flow.bytes) B from rank \(flow.sender) to rank \(flow.receiver)</title></line>\n"
        }
        let axisY = top + traces.count * track + 10
        body += "<text x=\"\(left)\" y=\"\(axisY + 4)\">0</text>"
        body += "<text x=\"\(left + width)\" y=\"\(axisY + 4)\" text-anchor=\"end\">\(JSONText.fixed(span / 1e6, 3)) ms</text>\n"
        var legendX = left
        for (name, colour) in colours.sorted(by: { $0.key < $1.key }) {
            body += "<rect x=\"\(legendX)\" y=\"\(axisY + 14)\" width=\"12\" height=\"12\" fill=\"\(colour)\"/>"
            body += "<text x=\"\(legendX + 16)\" y=\"\(axisY + 24)\">\(JSONText.xml(name))</text>\n"
            legendX += 24 + 8 * name.count
        }
        let height = axisY + 40
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(left + width + 20)" height="\(height)" font-family="sans-serif" font-size="12">
            <defs><marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="5" markerHeight="5" orient="auto">\
            <path d="M0,0 L6,3 L0,6 z"/></marker></defs>
            <rect width="\(left + width + 20)" height="\(height)" fill="white"/>
            <text x="\(left)" y="22" font-size="14" font-weight="bold">Timeline: MPI calls per rank, messages as arrows</text>
            \(body)</svg>

            """
    }

}
