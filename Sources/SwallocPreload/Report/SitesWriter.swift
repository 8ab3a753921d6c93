import CSwallocPreload

/// The `sampling` and `sites` parts of the JSON profile.
enum SitesWriter {
    struct Snapshot {
        var slot: Int
        var samples: Int64
        var allocations: Double
        var bytes: Double
        var liveAllocations: Double
        var liveBytes: Double
        var peakLiveBytes: Double
    }

    static func write(_ out: inout OutputBuffer) {
        // Copy the sites under the lock; symbolize after. A report from a
        // signal handler that interrupted a sample (a child forked there
        // that calls exit) finds the lock held by its own thread and the
        // table perhaps half-changed: it leaves the sites out.
        // Also left out in a child forked inside the library's own code:
        // symbolizing takes the loader's lock, which that code may hold.
        let locked = !swalloc_process_ptr().pointee.forked_inside_library
            && swalloc_lock_acquire_unless_held(SWALLOC_LOCK_SAMPLER)
        let count = locked ? StackTable.count : 0
        let snapshotBytes = max(count, 1) &* MemoryLayout<Snapshot>.stride
        let memory = locked ? swalloc_map_anonymous(snapshotBytes) : nil
        var taken = 0
        if let memory, let sites = StackTable.sites {
            // Unsafe: a fresh mapping of `count` snapshots; at most `count` are written.
            let snapshot = memory.assumingMemoryBound(to: Snapshot.self)
            for slot in 0..<count {
                let site = sites[slot]
                snapshot[taken] = Snapshot(slot: slot, samples: site.samples, allocations: site.allocations,
                                           bytes: site.bytes, liveAllocations: site.liveAllocations,
                                           liveBytes: site.liveBytes, peakLiveBytes: site.peakLiveBytes)
                taken &+= 1
            }
        }
        let samples = Sampler.samples
        let dropped = Sampler.dropped
        let untracked = SampledBlocks.untracked
        let overflowed = StackTable.overflowed
        let peakOwnersAt = PeakOwners.copiedAt
        if locked { swalloc_lock_release(SWALLOC_LOCK_SAMPLER) }

        out.text(",\n  \"sampling\": {\"mean_bytes\": ")
        out.decimal(Sampler.meanBytes)
        out.text(", \"depth\": ")
        out.decimal(Sampler.depth)
        out.text(", \"samples\": ")
        out.decimal(samples)
        out.text(", \"dropped\": ")
        out.decimal(dropped)
        out.text(", \"untracked_blocks\": ")
        out.decimal(untracked)
        out.text(", \"stack_table_overflowed\": ")
        out.text(overflowed ? "true" : "false")
        if !locked { out.text(", \"sites_left_out\": true") }
        out.text(", \"peak_owners_at_bytes\": ")
        out.decimal(max(peakOwnersAt, 0))
        out.text(", \"unwinder\": ")
        out.text(Backtrace.state == 1 ? "\"libunwind\"" : Backtrace.state == 2 ? "\"unavailable\"" : "\"unused\"")
        out.text("},\n  \"sites\": [")
        guard let memory else {
            out.text("]")
            return
        }
        // Unsafe: the same mapping, `taken` snapshots written above.
        let snapshot = memory.assumingMemoryBound(to: Snapshot.self)
        HeapSort.sort(snapshot, count: taken) { $0.bytes > $1.bytes } // largest first
        Symbolizer.prepare()
        for index in 0..<taken {
            writeSite(snapshot[index], first: index == 0, &out)
        }
        Symbolizer.finish()
        _ = swalloc_unmap(memory, snapshotBytes)
        out.text(taken == 0 ? "]" : "\n  ]")
    }

    static func writeSite(_ site: Snapshot, first: Bool, _ out: inout OutputBuffer) {
        out.text(first ? "\n    {\"calls\": " : ",\n    {\"calls\": ")
        out.decimal(rounded(site.allocations))
        out.text(", \"bytes\": ")
        out.decimal(rounded(site.bytes))
        out.text(", \"live_allocations\": ")
        out.decimal(rounded(site.liveAllocations))
        out.text(", \"live_bytes\": ")
        out.decimal(rounded(site.liveBytes))
        out.text(", \"peak_live_bytes\": ")
        out.decimal(rounded(site.peakLiveBytes))
        out.text(", \"samples\": ")
        out.decimal(site.samples)
        out.text(",\n     \"frames\": [")
        let depth = Int(StackTable.sites![site.slot].depth)
        let frames = StackTable.frames(of: site.slot)
        for index in 0..<depth {
            guard let address = frames[index] else { continue }
            let frame = Symbolizer.describe(address)
            out.text(index == 0 ? "\n       {\"function\": " : ",\n       {\"function\": ")
            if let name = frame.name {
                out.jsonString(cString: name)
            } else {
                out.text("null")
            }
            out.text(", \"module\": ")
            if frame.isMain, let path = ReportSnapshot.programPath() {
                out.jsonString(cString: path)
            } else if let module = frame.module {
                out.jsonString(cString: module)
            } else {
                out.text("null")
            }
            out.text(", \"offset\": ")
            out.decimal(UInt64(frame.offset))
            out.text(", \"address\": ")
            out.decimal(UInt64(UInt(bitPattern: address)))
            out.byte(UInt8(ascii: "}"))
        }
        out.text("]}")
    }

    static func rounded(_ value: Double) -> UInt64 {
        value <= 0 ? 0 : UInt64(value + 0.5)
    }
}
