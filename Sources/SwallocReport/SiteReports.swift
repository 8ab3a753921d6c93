/// What the text report says about call sites, and the folded-stacks
/// format for flame graphs.
public enum SiteReport {
    /// Which number a flame graph or ranking uses.
    public enum Metric: String, CaseIterable, Sendable {
        case bytes, calls
        case liveBytes = "live-bytes"
        case liveAllocations = "live-allocations"
        case peakLiveBytes = "peak-live-bytes"

        public func value(_ site: Profile.Site) -> UInt64 {
            switch self {
            case .bytes: return site.bytes
            case .calls: return site.calls
            case .liveBytes: return site.liveBytes
            case .liveAllocations: return site.liveAllocations
            case .peakLiveBytes: return site.peakLiveBytes ?? 0
            }
        }
    }

    /// A frame as one line: the function (or the address in its module),
    /// escaped for the terminal (TerminalText) wherever it is shown.
    public static func name(_ frame: Profile.Frame) -> String {
        if let function = frame.function { return TerminalText.escaped(function) }
        let module = frame.module.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "?"
        return "\(TerminalText.escaped(module))+0x\(String(frame.offset, radix: 16))"
    }

    /// A frame for the text report: its name, then where it is in the
    /// source (file name and line) when DWARF said, and whether the call
    /// was inlined.
    public static func frameLine(_ frame: Profile.Frame) -> String {
        var text = frame.function.map { TerminalText.escaped(shortened($0) ?? $0) } ?? name(frame)
        if let file = frame.file {
            let shortName = String(file.split(separator: "/").last ?? Substring(file))
            text += "  " + TerminalText.escaped(shortName) + (frame.line.map { ":\($0)" } ?? "")
        }
        if frame.inlined == true { text += "  (inlined)" }
        return text
    }

    /// A C++ or Swift name for reading, as heaptrack shortens them: the
    /// arguments of every template (and generic) are left out, `<…>`, and
    /// so are a function's parameters, `(…)`, unless empty. The JSON, pprof
    /// and folded outputs keep the full name.
    public static func shortened(_ name: String?) -> String? {
        guard let name, name.contains("<") || name.contains("(") else { return name }
        var result = ""
        var depth = 0
        var parenthesisDepth = 0
        var previous: Character = " "
        for character in name {
            switch character {
            case "<" where parenthesisDepth == 0 && previous != "<" && previous != " ":
                // `operator<` and `operator<<` keep their angle brackets.
                if result.hasSuffix("operator") { result.append(character) } else {
                    if depth == 0 { result += "<…>" }
                    depth += 1
                }
            case ">" where depth > 0 && parenthesisDepth == 0:
                depth -= 1
            case "(" where depth == 0:
                if parenthesisDepth == 0 { result += "(" }
                parenthesisDepth += 1
            case ")" where depth == 0 && parenthesisDepth > 0:
                parenthesisDepth -= 1
                if parenthesisDepth == 0 {
                    if previous != "(" { result += "…" }
                    result += ")"
                }
            default:
                if depth == 0 && parenthesisDepth == 0 { result.append(character) }
            }
            previous = character
        }
        return result
    }

    /// The text report's sections: top sites by bytes and by calls, and the
    /// sites that leaked, each with its stack.
    public static func render(_ profile: Profile, top: Int = 10, depth: Int = 8) -> String {
        guard let sites = profile.sites, let sampling = profile.sampling else { return "" }
        var lines: [String] = []
        let exact = sampling.meanBytes == 1
        lines.append("")
        lines.append("call sites (\(exact ? "every allocation" : "sampled every \(TextReport.bytes(UInt64(clamping: sampling.meanBytes))) on average: estimates"); \(TextReport.grouped(sampling.samples)) samples, \(sites.count) sites\(sampling.dropped > 0 ? ", \(sampling.dropped) dropped" : "")\(sampling.stackTableOverflowed ? ", stack table full" : ""))")
        func section(_ title: String, _ chosen: [Profile.Site], _ describe: (Profile.Site) -> String) {
            guard !chosen.isEmpty else { return }
            lines.append("")
            lines.append(title)
            for (rank, site) in chosen.enumerated() {
                lines.append("  \(rank + 1). \(describe(site))")
                for frame in site.frames.prefix(depth) {
                    lines.append("       \(frameLine(frame))")
                }
                if site.frames.count > depth { lines.append("       … \(site.frames.count - depth) more frames") }
            }
        }
        section("top sites by bytes", Array(sites.sorted { $0.bytes > $1.bytes }.prefix(top))) {
            "\(TextReport.bytes($0.bytes)) in \(TextReport.grouped($0.calls)) calls"
        }
        section("top sites by calls", Array(sites.sorted { $0.calls > $1.calls }.prefix(top))) {
            "\(TextReport.grouped($0.calls)) calls, \(TextReport.bytes($0.bytes))"
        }
        let owners = sites.filter { ($0.peakLiveBytes ?? 0) > 0 }.sorted { ($0.peakLiveBytes ?? 0) > ($1.peakLiveBytes ?? 0) }
        if let at = sampling.peakOwnersAtBytes, at > 0 {
            let held = owners.reduce(UInt64(0)) { $0.cappedAdding($1.peakLiveBytes ?? 0) }
            section("who held the peak (\(TextReport.bytes(at)) live; these sites held \(TextReport.bytes(held)))",
                    Array(owners.prefix(top))) {
                "\(TextReport.bytes($0.peakLiveBytes ?? 0)) live at the peak"
            }
        }
        let leaks = sites.filter { $0.liveAllocations > 0 }.sorted { $0.liveBytes > $1.liveBytes }
        section("still live at exit, by site", Array(leaks.prefix(top))) {
            "\(TextReport.bytes($0.liveBytes)) in \(TextReport.grouped($0.liveAllocations)) blocks"
        }
        let live = profile.totals.liveBytesAtExit
        if leaks.isEmpty {
            lines.append("")
            if live > 0 && !exact {
                // Sampling missed them: say so rather than "nothing".
                lines.append("still live at exit, by site: none sampled, though \(TextReport.bytes(live)) in "
                             + "\(TextReport.grouped(profile.totals.liveAllocationsAtExit)) blocks was still live; "
                             + Self.leaksHint)
            } else {
                lines.append("still live at exit, by site: nothing")
            }
        } else if !exact && live > 0 {
            // Estimates: say how much of what was live they account for.
            let attributed = leaks.reduce(UInt64(0)) { $0.cappedAdding($1.liveBytes) }
            lines.append("  (estimates from samples: \(TextReport.bytes(attributed)) at these sites, against "
                         + "\(TextReport.bytes(live)) live at exit in all; " + Self.leaksHint + ")")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Brendan Gregg's folded stacks: `outermost;…;innermost value`, one line
    /// per site, for flamegraph.pl, inferno and speedscope.
    /// With `sourceLines`, a frame that has a source line reads
    /// `function file:line` (the file's last path component).
    /// How to find every leaking site, and what it costs.
    static let leaksHint = "swalloc run --leaks (SWALLOC_SAMPLE=1) records every allocation's site, "
        + "a stack walk each, at several times the run's time"

    public static func folded(_ profile: Profile, metric: Metric = .bytes, sourceLines: Bool = false) -> String {
        var lines: [String] = []
        for site in profile.sites ?? [] {
            let value = metric.value(site)
            guard value > 0 else { continue }
            // Semicolons separate frames; a name must not contain one.
            let stack = site.frames.reversed().map { frame in
                var text = name(frame)
                if sourceLines, let file = frame.file, let line = frame.line {
                    text += " \(file.split(separator: "/").last.map(String.init) ?? file):\(line)"
                }
                return text.replacingSemicolons()
            }.joined(separator: ";")
            lines.append("\(stack) \(value)")
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// By scalars, not Characters: grapheme breaking made a long name cost
    /// seconds.
    func replacingSemicolons() -> String {
        guard utf8.contains(UInt8(ascii: ";")) else { return self }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: unicodeScalars.lazy.map { $0 == ";" ? ":" : $0 })
        return String(scalars)
    }
}
