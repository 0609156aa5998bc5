// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Shoal",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "shoal", targets: ["shoal"]),
        .executable(name: "shoal-sandbox", targets: ["shoal-sandbox"]),
        .library(name: "ShoalDefinition", targets: ["ShoalDefinition"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
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
        .target(name: "ShoalStore", dependencies: [
            "ShoalDefinition", "CShoalSystem", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Linux system calls Glibc does not expose to Swift.
        .target(name: "CShoalSystem", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "ShoalRuntime", dependencies: ["ShoalDefinition", "CShoalSystem"]),
        // The helper a worker runs each job instance through (mount namespace, parent-death signal).
        // Plain C, linked statically without Swift's startup code: SwiftPM would
        // otherwise load the Swift runtime and libstdc++ into it, 1.7 ms of every
        // instance's start against 0.4 ms.
        .executableTarget(
            name: "shoal-sandbox", path: "Sources/shoal-sandbox", linkerSettings: [.unsafeFlags(["-static-executable", "-nostartfiles"])]
        ),
        .target(name: "ShoalCluster", dependencies: ["CShoalSystem", "ZeroMQ", "ShoalRuntime", .product(name: "CoreMetrics", package: "swift-metrics")]),
        .target(name: "ShoalEngine", dependencies: [
            "ShoalStore", "ShoalCluster", "ShoalRuntime", "ShoalDefinition", "ZeroMQ", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        // What an AWS request's signature claims and whether it holds (SigV4, SigV2 presigned, aws-chunked
        // bodies), and the services' error shapes: pure, so the fuzzer builds it without the HTTP server.
        .target(name: "AWSSignature", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The AWS-compatible HTTP endpoint: it translates requests into the engine's and the store's calls.
        .target(name: "ShoalHTTP", dependencies: [
            "AWSSignature", "ShoalEngine", "ShoalStore", "ShoalCluster", "ShoalDefinition", "ShoalRuntime", "CShoalSystem",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"), .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"), .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        // The web console and /metrics, mounted on the endpoint's port by the command that serves it.
        .target(name: "ShoalConsole", dependencies: [
            "ShoalEngine", "ShoalStore", "ShoalCluster", "ShoalDefinition",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .executableTarget(
            name: "shoal",
            dependencies: [
                "ShoalEngine", "ShoalStore", "ShoalCluster", "ShoalRuntime", "ShoalDefinition", "ShoalHTTP", "ShoalConsole", "ZeroMQ", "shoal-sandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Fuzz targets (scripts/fuzz.sh); a plain build replays saved inputs.
        .executableTarget(name: "shoal-fuzz", dependencies: ["AWSSignature", "ShoalCluster", "ShoalDefinition", "ZeroMQ", .product(name: "Crypto", package: "swift-crypto")], path: "Tests/Fuzz"),
        .target(name: "ShoalTestSupport", dependencies: ["ShoalCluster", "ShoalRuntime"], path: "Tests/ShoalTestSupport"),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "ShoalDefinitionTests", dependencies: ["ShoalDefinition", "ShoalTestSupport"]),
        .testTarget(name: "ShoalCLITests", dependencies: ["shoal", "ShoalDefinition", "ShoalCluster", "ShoalStore", "ZeroMQ", "ShoalTestSupport"]),
        .testTarget(name: "ShoalStoreTests", dependencies: ["ShoalStore", "ShoalTestSupport"]),
        .testTarget(name: "ShoalRuntimeTests", dependencies: ["ShoalRuntime", "shoal-sandbox", "ShoalTestSupport"]),
        .testTarget(name: "ShoalClusterTests", dependencies: ["ShoalCluster", "ShoalRuntime", "ShoalStore", "ZeroMQ", "ShoalTestSupport"]),
        .testTarget(name: "ShoalEngineTests", dependencies: ["ShoalEngine", "ShoalDefinition", "ShoalStore", "ShoalRuntime", "ShoalTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
