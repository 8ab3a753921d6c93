// swift-tools-version:6.0
import PackageDescription

// The preload library (Sources/SwallocPreload, Sources/CSwallocPreload) is
// not a target here: it is Embedded Swift built by scripts/build. See
// docs/architecture.md.
let package = Package(
    name: "Swalloc",
    // Synchronization's Atomic (CountingAllocator) on Apple platforms.
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Swalloc", targets: ["Swalloc"]),
        .executable(name: "swalloc", targets: ["SwallocCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .target(name: "CSwalloc"),
        // The live profile file's layout, shared with the preload library
        // (scripts/build includes the same header).
        .target(name: "CSwallocLive"),
        .target(name: "Swalloc", dependencies: ["CSwalloc"]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibdw", pkgConfig: "libdw", providers: [.apt(["libdw-dev"])]),
        .target(
            name: "SwallocReport",
            dependencies: ["CZlib", "CLibdw", "CSwallocLive", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Pprof/pprof.proto"]),
        // The SWALLOC_* settings table, shared with the preload library
        // (scripts/build compiles the same file into it).
        .target(name: "SwallocSettings"),
        .executableTarget(
            name: "SwallocCLI",
            dependencies: [
                "SwallocReport",
                "SwallocSettings",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "SwallocAPIBench", dependencies: ["Swalloc"]),
        .testTarget(name: "SwallocTests", dependencies: ["Swalloc"]),
        .testTarget(name: "SwallocReportTests", dependencies: ["SwallocReport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["SwallocReport"]),
    ]
)
