import CSwallocPreload

/// The JSON profile (docs/profile-format.md), version 1.
enum JSONProfileWriter {
    static let version = 1

    static func write(_ profile: ReportSnapshot, to out: inout OutputBuffer) {
        let c = profile.counters
        out.text("{\n  \"version\": ")
        out.decimal(version)
        out.text(",\n  \"pid\": ")
        out.decimal(Int64(profile.pid))
        out.text(",\n  \"ppid\": ")
        out.decimal(Int64(swalloc_process_ptr().pointee.parent_pid))
        out.text(",\n  \"program\": ")
        out.jsonString(cString: ReportSnapshot.programPath())
        out.text(",\n  \"allocator\": \"")
        ReportSnapshot.allocatorName(&out)
        out.text("\",\n  \"complete\": true,\n  \"threads\": ")
        out.decimal(profile.threads)
        out.text(",\n  \"totals\": {")
        field(&out, "malloc_calls", c.malloc_calls, first: true)
        field(&out, "calloc_calls", c.calloc_calls)
        field(&out, "realloc_calls", c.realloc_calls)
        field(&out, "free_calls", c.free_calls)
        field(&out, "aligned_calls", c.aligned_calls)
        field(&out, "failed_calls", c.failed_calls)
        field(&out, "allocations", profile.blocksAllocated)
        field(&out, "deallocations", c.blocks_freed)
        field(&out, "bytes_allocated", c.bytes_allocated)
        field(&out, "bytes_freed", c.bytes_freed)
        field(&out, "peak_live_bytes", profile.peakLiveBytes)
        field(&out, "live_bytes_at_exit", profile.liveBytes)
        field(&out, "live_allocations_at_exit", profile.liveBlocks)
        field(&out, "inherited_live_bytes", profile.inheritedBytes)
        field(&out, "inherited_live_allocations", profile.inheritedBlocks)
        field(&out, "max_resident_bytes", swalloc_peak_resident_bytes())
        out.text("\n  },\n  \"peak_error_bound_bytes\": ")
        out.decimal(max(profile.threads, 1) &* UInt64(SWALLOC_PEAK_STEP))
        out.text(",\n  \"bootstrap\": {\"allocations\": ")
        out.decimal(profile.arenaBlocks)
        out.text(", \"bytes\": ")
        out.decimal(profile.arenaBytes)
        out.text("},\n  \"histogram\": [")
        var first = true
        for index in 0..<Int(SWALLOC_HISTOGRAM_BUCKETS) {
            let count = profile.histogram(index)
            guard count > 0 else { continue }
            let range = ReportSnapshot.bucketRange(index)
            out.text(first ? "\n    {\"min\": " : ",\n    {\"min\": ")
            first = false
            out.decimal(range.low)
            out.text(", \"max\": ")
            out.decimal(range.high)
            out.text(", \"count\": ")
            out.decimal(count)
            out.byte(UInt8(ascii: "}"))
        }
        out.text(first ? "]" : "\n  ]")
        Timeline.write(&out, liveAtExit: profile.liveBytes)
        if GuardSampling.enabled {
            if GuardSampling.oneIn > 0 {
                out.text(",\n  \"guard_sampling\": {\"one_in\": ")
                out.decimal(GuardSampling.oneIn)
            } else {
                out.text(",\n  \"guard_sampling\": {\"mean_bytes\": ")
                out.decimal(GuardSampling.meanBytes)
            }
            out.text(", \"guarded\": ")
            out.decimal(swalloc_atomic_add_u64(&GuardSampling.guarded, 0))
            out.byte(UInt8(ascii: "}"))
        }
        if Sampler.enabled {
            SitesWriter.write(&out)
            // dl_iterate_phdr takes the loader's lock (see SitesWriter).
            if !swalloc_process_ptr().pointee.forked_inside_library { ModulesWriter.write(&out) }
        }
        out.text("\n}\n")
    }

    static func field(_ out: inout OutputBuffer, _ name: StaticString, _ value: UInt64, first: Bool = false) {
        out.text(first ? "\n    \"" : ",\n    \"")
        out.text(name)
        out.text("\": ")
        out.decimal(value)
    }
}
