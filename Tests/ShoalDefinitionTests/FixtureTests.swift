import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

@Suite struct FixtureTests {
    @Test func fixtureFoldersAreThere() {
        #expect(Fixtures.validDefinitions.count >= 17, "looked in \(Fixtures.sagemaker.path)")
        #expect(Fixtures.invalidCases.count >= 14)
    }

    @Test(arguments: Fixtures.validDefinitions)
    func sdkDefinitionRoundTripsLosslessly(file: URL) throws {
        let data = try Data(contentsOf: file)
        let original = try JSONParser.parse(data)
        let check = DefinitionCheck.check(data: data)
        let definition = try #require(check.definition)
        // Text, not `JSONValue ==`: that equality ignores key order and takes 6 for 6.0.
        let written = JSONWriter.string(original)
        #expect(definition.jsonText() == written)
        // The Codable path gives the same model by value: Foundation's JSONDecoder
        // keeps neither key order nor 6.0 apart from 6, so its text cannot match.
        let viaCodable = try JSONDecoder().decode(PipelineDefinition.self, from: data)
        #expect(viaCodable == definition)
        #expect(JSONWriter.canonical(viaCodable.json).count == JSONWriter.canonical(original).count - Self.fractionlessDoubles(in: original) * 2)
    }

    /// How many numbers are written with a fraction of zero (`6.0`), which Codable reads back as `6`.
    static func fractionlessDoubles(in value: JSONValue) -> Int {
        switch value {
        case let .number(.double(number)): number == number.rounded() && abs(number) < 1e15 ? 1 : 0
        case let .array(items): items.reduce(0) { $0 + fractionlessDoubles(in: $1) }
        case let .object(fields): fields.entries.reduce(0) { $0 + fractionlessDoubles(in: $1.value) }
        default: 0
        }
    }

    @Test(arguments: Fixtures.validDefinitions)
    func sdkDefinitionIsValid(file: URL) throws {
        let check = DefinitionCheck.check(data: try Data(contentsOf: file))
        #expect(check.errors == [], "\(check.errors.map(\.description))")
        let graph = try #require(check.graph)
        #expect(graph.order.count == graph.nodes.count)
    }

    @Test(arguments: Fixtures.invalidCases)
    func invalidDefinitionGetsItsExpectedError(invalid: Fixtures.InvalidCase) throws {
        let check = DefinitionCheck.check(data: try Data(contentsOf: invalid.file))
        #expect(!check.isValid)
        let errors = check.errors
        #expect(errors.count == 1, "each file breaks exactly one rule; got \(errors.map(\.description))")
        let error = try #require(errors.first { $0.code == invalid.code && $0.path == invalid.path })
        #expect(error.message == invalid.message)
        #expect(error.line == invalid.line)
        #expect(error.column == invalid.column)
    }
}
