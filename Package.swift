// swift-tools-version:6.0
import PackageDescription

// Two audiences, one manifest.
//
// A package that depends on Swalloc gets the `Swalloc` library product and
// nothing else: no swift-argument-parser, no swift-protobuf, no zlib or
// libdw, so that resolving and building it costs only Swalloc.
//
// This repository's own tools (the `swalloc` command, its report library,
// the settings table it shares with the preload library, and their tests)
// are part of the manifest when SWALLOC_TOOLS is set: scripts/build and
// scripts/test set it, and so must a developer who builds them with
// `swift build` directly (docs/architecture.md, "The package").
//
// The preload library (Sources/SwallocPreload, Sources/CSwallocPreload) is
// not a target either way: it is Embedded Swift built by scripts/build.
let withTools = Context.environment["SWALLOC_TOOLS"].map { !$0.isEmpty && $0 != "0" } ?? false

var products: [Product] = [.library(name: "Swalloc", targets: ["Swalloc"])]
var dependencies: [Package.Dependency] = []
var targets: [Target] = [
    .target(name: "CSwalloc"),
    // Lifetimes: AllocVec's `span` and `mutableSpan` declare that they
    // borrow the vector (a client needs no feature to use them).
    .target(name: "Swalloc", dependencies: ["CSwalloc"], swiftSettings: [.enableExperimentalFeature("Lifetimes")]),
    .executableTarget(name: "SwallocAPIBench", dependencies: ["Swalloc"]),
    .testTarget(name: "SwallocTests", dependencies: ["Swalloc"]),
]

if withTools {
    products.append(.executable(name: "swalloc", targets: ["SwallocCLI"]))
    dependencies += [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // `swift package generate-documentation --target Swalloc` (the
        // catalog is Sources/Swalloc/Swalloc.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ]
    targets += [
        // The live profile file's layout, shared with the preload library
        // (scripts/build includes the same header).
        .target(name: "CSwallocLive"),
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
        .testTarget(name: "SwallocReportTests", dependencies: ["SwallocReport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["SwallocReport"]),
    ]
}

let package = Package(
    name: "Swalloc",
    // Synchronization's Atomic (CountingAllocator) needs macOS 15 on Apple
    // platforms; Linux has no such floor.
    platforms: [.macOS(.v15)],
    products: products,
    dependencies: dependencies,
    targets: targets
)
