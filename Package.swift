// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Shoal",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "shoal", targets: ["shoal"]),
        .library(name: "ShoalDefinition", targets: ["ShoalDefinition"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libzmq from Debian's libzmq3-dev; zmq.h lives in /usr/include, so a plain
        // module map avoids the flags pkg-config adds (SwiftPM rejects them).
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: nil,
            providers: [.apt(["libzmq3-dev"])]
        ),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        .target(name: "ShoalDefinition"),
        .executableTarget(
            name: "shoal",
            dependencies: [
                "ShoalDefinition",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "ShoalTestSupport", path: "Tests/ShoalTestSupport"),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "ShoalDefinitionTests", dependencies: ["ShoalDefinition", "ShoalTestSupport"]),
        .testTarget(name: "ShoalCLITests", dependencies: ["shoal", "ShoalTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
