/// The merged trace of a job in the Chrome/Perfetto trace-event JSON format: open it in
/// ui.perfetto.dev or chrome://tracing.
///
/// Each rank is a process track (`rank N`); its MPI calls and the user's regions are complete
/// events (`"ph": "X"`) with the communicator, peer (world rank), tag and bytes as arguments; each
/// message is a zero-length event inside the call that sent it and the one that matched it, joined
/// by a flow arrow (`"ph": "s"` / `"f"`, ``MessageFlows``). Times are microseconds on rank 0's
/// clock, from the earliest event; `otherData` records the worst clock uncertainty and the events
/// dropped by full rings.
package enum PerfettoTrace {
    /// The name of the merged file in the trace directory.
    package static let fileName = "trace.json"

    /// The JSON text of the merged trace of `traces`.
    package static func json(_ traces: [RankTrace]) -> String {
        let traces = RankTrace.distinct(traces)
        let origin = traces.compactMap { trace in trace.events.map { trace.aligned($0.start) }.min() ?? trace.aligned(trace.started) }.min() ?? 0
        let flows = MessageFlows(traces)
        var lines: [String] = []
        for trace in traces {
            let pid = trace.rank
            let label = trace.host.isEmpty ? "rank \(trace.rank)" : "rank \(trace.rank) (\(trace.host))"
            lines.append(#"{"ph":"M","name":"process_name","pid":\#(pid),"tid":0,"args":{"name":\#(JSONText.string(label))}}"#)
            lines.append(#"{"ph":"M","name":"process_sort_index","pid":\#(pid),"tid":0,"args":{"sort_index":\#(pid)}}"#)
            for event in trace.events {
                let ts = JSONText.microseconds(trace.aligned(event.start) - origin)
                let duration = JSONText.microseconds(Int64(event.end - event.start))
                var arguments = #""bytes":\#(event.bytes)"#
                switch event.kind {
                case .call:
                    arguments = #""communicator":\#(JSONText.string(event.communicator)),"peer":\#(event.peer),"tag":\#(event.tag),"# + arguments
                case .send, .receive:
                    arguments =
                        #""communicator":\#(JSONText.string(event.communicator)),"peer":\#(event.peer),"tag":\#(event.tag),"#
                        + #""protocol":\#(JSONText.string(event.name)),"# + arguments
                case .region: break
                }
                let name: String
                let category: String
                switch event.kind {
                case .call: (name, category) = (event.name, "mpi")
                case .region: (name, category) = (event.name, "region")
                case .send: (name, category) = ("to \(event.peer): \(event.bytes) B", "message")
                case .receive: (name, category) = ("from \(event.peer): \(event.bytes) B", "message")
                }
                lines.append(
                    #"{"ph":"X","name":\#(JSONText.string(name)),"cat":"\#(category)","pid":\#(pid),"tid":0,"#
                        + #""ts":\#(ts),"dur":\#(duration),"args":{\#(arguments)}}"#
                )
            }
        }
        let byRank = Dictionary(traces.map { ($0.rank, $0) }, uniquingKeysWith: { first, _ in first })
        for (id, flow) in flows.flows.enumerated() {
            guard let sender = byRank[flow.sender], let receiver = byRank[flow.receiver] else { continue }
            let sent = JSONText.microseconds(sender.aligned(sender.events[flow.sendEvent].start) - origin)
            let received = JSONText.microseconds(receiver.aligned(receiver.events[flow.receiveEvent].start) - origin)
            lines.append(#"{"ph":"s","name":"message","cat":"message","id":\#(id),"pid":\#(flow.sender),"tid":0,"ts":\#(sent)}"#)
            lines.append(#"{"ph":"f","bp":"e","name":"message","cat":"message","id":\#(id),"pid":\#(flow.receiver),"tid":0,"ts":\#(received)}"#)
        }
        let uncertainty = traces.map(\.clockUncertainty).max() ?? 0
        let dropped = traces.reduce(0) { $0 + $1.dropped }
        let other =
            #""otherData":{"generator":"SwiftMPI","ranks":\#(traces.first?.size ?? 0),"ranks_traced":\#(traces.count),"#
            + #""clock_uncertainty_us":\#(JSONText.microseconds(Int64(uncertainty))),"dropped_events":\#(dropped),"#
            + #""messages":\#(flows.flows.count),"unpaired_sends":\#(flows.unpairedSends),"unpaired_receives":\#(flows.unpairedReceives)}"#
        return "{\"displayTimeUnit\":\"ns\",\(other),\"traceEvents\":[\n" + lines.joined(separator: ",\n") + "\n]}\n"
    }
}
