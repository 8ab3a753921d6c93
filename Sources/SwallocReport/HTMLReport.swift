import Foundation

/// One self-contained HTML page: the summary, and an interactive flame graph
/// of allocated bytes and of bytes live at exit (click a frame to zoom in,
/// click the bottom bar to zoom out, hover for numbers). No external
/// scripts or styles: the page works offline and can be attached to a bug.
public enum HTMLReport {
    public static func render(_ profile: Profile) -> String {
        let summary = TextReport.render(Profile(copyWithoutSites: profile))
        let allocated = FlameGraphData(profile, metric: .bytes).json()
        let live = FlameGraphData(profile, metric: .liveBytes).json()
        let peak = FlameGraphData(profile, metric: .peakLiveBytes).json()
        let program = profile.program.map { String($0.split(separator: "/").last ?? "") } ?? "profile"
        let title = "swalloc: \(TerminalText.escaped(program)) [pid \(profile.pid)]"
        return fill(page, [
            "TITLE": escape(title),
            "SUMMARY": escape(summary),
            "DATA": "{\"allocated\":" + allocated + ",\"live\":" + live + ",\"peak\":" + peak + "}",
            "TIMELINE": profile.timeline.map(timelineSVG) ?? "<p>(no timeline in this profile)</p>",
            "SITES": siteTable(profile),
        ])
    }

    /// The top sites by bytes as a table (calls, bytes, live at exit, held at
    /// the peak, the innermost frames with their source lines), filtered by
    /// the page's search box.
    static func siteTable(_ profile: Profile, top: Int = 100) -> String {
        guard let sites = profile.sites, !sites.isEmpty else { return "<p>(no call sites: sampling was off)</p>" }
        // Click a numeric header to sort by it (data-v holds the number).
        var rows = ["<table id=\"sites\"><thead><tr><th data-sort=\"bytes\">bytes</th><th data-sort=\"calls\">calls</th>"
                    + "<th data-sort=\"live\">live at exit</th><th data-sort=\"peak\">held at the peak</th>"
                    + "<th>stack (innermost first)</th></tr></thead><tbody>"]
        for site in sites.sorted(by: { $0.bytes > $1.bytes }).prefix(top) {
            let stack = site.frames.prefix(8).map { escape(SiteReport.frameLine($0)) }.joined(separator: "<br>")
                + (site.frames.count > 8 ? "<br>…" : "")
            rows.append("<tr><td data-v=\"\(site.bytes)\">\(TextReport.bytes(site.bytes))</td>"
                        + "<td data-v=\"\(site.calls)\">\(TextReport.grouped(site.calls))</td>"
                        + "<td data-v=\"\(site.liveBytes)\">\(TextReport.bytes(site.liveBytes))</td>"
                        + "<td data-v=\"\(site.peakLiveBytes ?? 0)\">\(TextReport.bytes(site.peakLiveBytes ?? 0))</td>"
                        + "<td class=\"stack\">\(stack)</td></tr>")
        }
        rows.append("</tbody></table>")
        return rows.joined(separator: "\n")
    }

    /// Live bytes over time as an SVG area chart, drawn here (no script).
    static func timelineSVG(_ timeline: Profile.Timeline) -> String {
        let points = timeline.points.filter { $0.count == 2 }
        guard let end = points.map({ $0[0] }).max(), end > 0, let highest = points.map({ $0[1] }).max(), highest > 0
        else { return "<p>(no timeline in this profile)</p>" }
        let width = 800.0, height = 160.0
        var path = "M0,\(height)"
        for point in points {
            let x = Double(point[0]) / Double(end) * width
            let y = height - Double(point[1]) / Double(highest) * (height - 10)
            path += String(format: " L%.1f,%.1f", x, y)
        }
        path += " L\(width),\(height) Z"
        let peakTime = points.first { $0[1] == highest }.map { $0[0] } ?? 0
        let caption = "peak \(TextReport.bytes(highest)) at \(TimelineChart.seconds(peakTime)) of \(TimelineChart.seconds(end))"
        return "<svg id=\"timeline\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" height=\"160\" "
            + "preserveAspectRatio=\"none\" role=\"img\"><path d=\"\(path)\" fill=\"#e8743b\" fill-opacity=\"0.7\" "
            + "stroke=\"#b34d1a\"/></svg><div>\(escape(caption))</div>"
    }

    /// The template with each `@NAME@` replaced by its value. Only the
    /// template is searched for placeholders, never a value: a program
    /// named "@DATA@" stays that name.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        template.split(separator: "@", omittingEmptySubsequences: false).enumerated().map { index, piece in
            index % 2 == 1 ? values[String(piece)] ?? "" : String(piece)
        }.joined()
    }

    /// Text for an element's content or an attribute's value.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// The page: its template holds no "@" but around the placeholders.
    static let page = """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>@TITLE@</title>
    <style>
    body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
    h1 { font-size: 18px; margin: 0 0 8px; }
    pre { background: #f6f6f6; padding: 8px; overflow: auto; max-height: 320px; }
    .tabs button { font: inherit; padding: 4px 12px; margin-right: 4px; border: 1px solid #999; background: #fff; cursor: pointer; }
    .tabs button.on { background: #333; color: #fff; }
    #graph { position: relative; width: 100%; margin-top: 8px; border: 1px solid #ddd; overflow: hidden; }
    .frame { position: absolute; height: 17px; box-sizing: border-box; border: 1px solid #fff; overflow: hidden;
             white-space: nowrap; font-size: 11px; padding: 1px 3px; cursor: pointer; border-radius: 2px; }
    #info { height: 18px; margin-top: 4px; color: #555; }
    #search { font: inherit; padding: 3px 6px; width: 240px; margin-left: 12px; }
    .frame.match { outline: 2px solid #1565c0; }
    .frame.ancestor { background: #ddd !important; }
    table { border-collapse: collapse; margin-top: 8px; font-size: 12px; }
    th, td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: right; vertical-align: top; }
    td.stack { text-align: left; font-family: ui-monospace, monospace; }
    th[data-sort] { cursor: pointer; text-decoration: underline dotted; }
    th.sorted::after { content: ' ▼'; }
    </style></head><body>
    <h1>@TITLE@</h1>
    <h2 style="font-size:15px">memory over time</h2>
    @TIMELINE@
    <div class="tabs"><button id="tab-allocated" class="on">allocated bytes</button><button id="tab-live">live at exit</button><button id="tab-peak">held at the peak</button><input id="search" type="search" placeholder="search functions and files"></div>
    <div id="graph"></div>
    <div id="info">click a frame to zoom in, the bottom bar to zoom out</div>
    <h2 style="font-size:15px">top call sites</h2>
    @SITES@
    <h2 style="font-size:15px">summary</h2>
    <pre>@SUMMARY@</pre>
    <script id="data" type="application/json">@DATA@</script>
    <script>
    const data = JSON.parse(document.getElementById('data').textContent);
    const graph = document.getElementById('graph'), info = document.getElementById('info');
    const rowHeight = 18;
    let current = 'allocated', zoom = null, path = [], term = '';
    function depth(node) { return 1 + Math.max(0, ...node.children.map(depth)); }
    // The nodes from `from` down to `node`'s parent.
    function ancestors(from, node) {
      const trail = [];
      (function walk(current) {
        if (current === node) return true;
        trail.push(current);
        for (const child of current.children) if (walk(child)) return true;
        trail.pop();
        return false;
      })(from);
      return trail;
    }
    function units(bytes) {
      const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB']; let i = 0;
      while (bytes >= 1024 && i < u.length - 1) { bytes /= 1024; i++; }
      return (i ? bytes.toFixed(1) : bytes) + ' ' + u[i];
    }
    function color(name) {
      let h = 0; for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
      return `hsl(${20 + h % 40}, ${70 + h % 20}%, ${55 + (h >> 8) % 15}%)`;
    }
    function draw() {
      const root = data[current];
      const top = zoom || root;
      graph.innerHTML = '';
      // When zoomed, the frames above stay, full width, in grey.
      const base = zoom ? path.length : 0;
      const rows = depth(top) + base;
      graph.style.height = (rows * rowHeight + 2) + 'px';
      const width = graph.clientWidth;
      path.forEach((node, level) => {
        const div = document.createElement('div');
        div.className = 'frame ancestor';
        div.style.left = '0px'; div.style.width = width + 'px'; div.style.bottom = (level * rowHeight) + 'px';
        div.textContent = node.name;
        div.onclick = () => { zoom = level ? path[level] : null; path = path.slice(0, level); draw(); };
        graph.appendChild(div);
      });
      function place(node, x, level, scale) {
        const w = node.value * scale;
        if (w < 1) return;
        const div = document.createElement('div');
        div.className = 'frame';
        div.style.left = x + 'px';
        div.style.width = w + 'px';
        div.style.bottom = ((level + base) * rowHeight) + 'px';
        div.style.background = node === top && zoom ? '#bbb' : color(node.name);
        if (term && node.name.toLowerCase().includes(term)) div.classList.add('match');
        div.textContent = node.name;
        const share = (100 * node.value / (root.value || 1)).toFixed(1);
        const at = node.at ? ` (${node.at})` : '';
        div.title = `${node.name}${at}\\n${units(node.value)} (${share}%)`;
        div.onmouseenter = () => { info.textContent = `${node.name}${at}: ${units(node.value)}, ${share}% of all`; };
        div.onclick = () => {
          if (node === top) { zoom = path.length ? path[path.length - 1] : null; path = path.slice(0, -1); }
          else { path = path.concat(ancestors(top, node)); zoom = node; }
          draw();
        };
        graph.appendChild(div);
        let cx = x;
        for (const child of node.children) { place(child, cx, level + 1, scale); cx += child.value * scale; }
      }
      if (!top.value) { graph.textContent = 'nothing to show'; return; }
      place(top, 0, 0, width / top.value);
    }
    for (const name of ['allocated', 'live', 'peak']) {
      document.getElementById('tab-' + name).onclick = () => {
        current = name; zoom = null; path = [];
        document.querySelectorAll('.tabs button').forEach(b => b.classList.toggle('on', b.id === 'tab-' + name));
        draw();
      };
    }
    const search = document.getElementById('search');
    function filter() {
      term = search.value.trim().toLowerCase();
      for (const row of document.querySelectorAll('#sites tbody tr'))
        row.style.display = !term || row.textContent.toLowerCase().includes(term) ? '' : 'none';
      draw();
    }
    search.oninput = filter;
    // The table sorts by the clicked column, largest first.
    function sortBy(key) {
      const header = document.querySelector(`#sites th[data-sort="${key}"]`);
      if (!header) return;
      const column = [...header.parentNode.children].indexOf(header);
      const body = document.querySelector('#sites tbody');
      const rows = [...body.rows].sort((a, b) => Number(b.cells[column].dataset.v) - Number(a.cells[column].dataset.v));
      for (const row of rows) body.appendChild(row);
      document.querySelectorAll('#sites th').forEach(th => th.classList.toggle('sorted', th === header));
    }
    document.querySelectorAll('#sites th[data-sort]').forEach(th => th.onclick = () => sortBy(th.dataset.sort));
    // The page's state can be linked:
    // #view=allocated|live|peak&search=TEXT&sort=bytes|calls|live|peak&zoom=FUNCTION.
    const state = new URLSearchParams(location.hash.slice(1));
    if (state.get('view') && document.getElementById('tab-' + state.get('view'))) document.getElementById('tab-' + state.get('view')).onclick();
    if (state.get('sort')) sortBy(state.get('sort'));
    if (state.get('search')) { search.value = state.get('search'); filter(); }
    if (state.get('zoom')) {
      const root = data[current];
      const found = (function find(node) {
        if (node !== root && node.name === state.get('zoom')) return node;
        for (const child of node.children) { const hit = find(child); if (hit) return hit; }
        return null;
      })(root);
      if (found) { path = ancestors(root, found); zoom = found; }
    }
    window.onresize = draw;
    draw();
    </script></body></html>
    """
}

extension Profile {
    /// The profile without its sites (for the page's text summary, whose
    /// sites the flame graph shows).
    init(copyWithoutSites profile: Profile) {
        self = profile
        self.sites = nil
        self.sampling = nil
    }
}
