// swift-tools-version:6.0
// A Swalloc plug-in written in Swift: build it, then run a program with
//   SWALLOC_ALLOCATOR=$PWD/.build/release/libLayoutCheckingAllocator.so swalloc run -- ./program
import PackageDescription

let package = Package(
    name: "LayoutCheckingAllocator",
    products: [
        .library(name: "LayoutCheckingAllocator", type: .dynamic, targets: ["LayoutCheckingAllocator"]),
    ],
    dependencies: [
        // In your own package: .package(url: "https://github.com/OWNER/swalloc", from: "…")
        .package(name: "Swalloc", path: "../../.."),
    ],
    targets: [
        .target(name: "LayoutCheckingAllocator", dependencies: [.product(name: "Swalloc", package: "Swalloc")]),
    ]
)
