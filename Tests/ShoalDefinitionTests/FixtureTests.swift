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
        let reencoded = try JSONParser.parse(definition.jsonText())
        #expect(reencoded == original)
        // The Codable path gives the same model.
        let viaCodable = try JSONDecoder().decode(PipelineDefinition.self, from: data)
        #expect(viaCodable.json == original)
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
