import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// What expressions see while a step starts.
struct ExecutionScope: EvaluationScope {
    let parameters: OrderedFields<JSONValue>
    let variables: [ExecutionVariable: JSONValue]
    let experiment: [String: JSONValue]
    let properties: [String: JSONValue]
    let propertyFiles: [String: [PropertyFile]]
    let objects: ObjectStore
    static let maxPropertyFileBytes = 1 << 20

    func parameter(_ name: String) -> JSONValue? { parameters[name] }
    func executionVariable(_ variable: ExecutionVariable) -> JSONValue? { variables[variable] }
    func experimentConfig(_ name: String) -> JSONValue? { experiment[name] }
    func properties(ofStep name: String) -> JSONValue? { properties[name] }
    func propertyFileURI(_ name: String, ofStep step: String) throws(EvaluationError) -> String {
        guard let properties = properties[step] else { throw EvaluationError("Step '\(step)' has not succeeded; its property file '\(name)' cannot be read.") }
        if case let .string(results)? = JSONNavigation.follow([.member("ResultsS3Uri")], in: properties), name == "Results" { return results }
        guard let file = propertyFiles[step]?.first(where: { $0.name == name }) else {
            throw EvaluationError("Step '\(step)' declares no property file '\(name)'.")
        }
        guard let uri = PropertyFileLocation.uri(output: file.outputName, path: file.filePath, in: properties) else {
            throw EvaluationError("Property file '\(name)' of step '\(step)' has no output '\(file.outputName)' to read from.")
        }
        return uri
    }

    func readJSONObject(at text: String) throws(EvaluationError) -> JSONValue {
        do {
            let data = try objects.read(try S3URI(text), maxBytes: Self.maxPropertyFileBytes)
            do {
                return try JSONParser.parse(data)
            } catch {
                throw EvaluationError("Contents of file \(text) are not in valid JSON format: \(error).")
            }
        } catch let error as EvaluationError {
            throw error
        } catch {
            throw EvaluationError("Received an error while reading file \(text): \(error).")
        }
    }
}
