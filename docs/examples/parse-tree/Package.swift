// swift-tools-version:6.0
// The worked example of docs/allocator-api.md: a parse tree in an arena.
//   swift run -c release --package-path docs/examples/parse-tree
import PackageDescription

let package = Package(
    name: "ParseTree",
    dependencies: [
        // In your own package: .package(url: "https://github.com/OWNER/swalloc", from: "…")
        .package(name: "Swalloc", path: "../../.."),
    ],
    targets: [
        .executableTarget(name: "ParseTree", dependencies: [.product(name: "Swalloc", package: "Swalloc")]),
    ]
)
