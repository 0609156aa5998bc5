import ShoalDefinition

/// How resolved values are turned into strings, numbers and booleans at their
/// destination (spec §2.5, §2.7).
public enum ValueRendering {
    /// Std:Join's and string slots' rendering: integers in decimal, floats in the
    /// shortest round-trip form keeping `.0`, booleans `true`/`false`, JSON text for
    /// arrays and objects.
    public static func string(_ value: JSONValue) -> String {
        switch value {
        case let .string(text): text
        case let .number(number): number.description
        case let .bool(flag): flag ? "true" : "false"
        case .null: "null"
        case .array, .object: JSONWriter.string(value)
        }
    }

    public static func integer(_ value: JSONValue, _ what: String) throws(EvaluationError) -> Int {
        switch value {
        case let .number(number):
            if let integer = number.exactInt { return integer }
        case let .string(text):
            if let integer = Int(text.trimmingCharacters(in: .whitespaces)) { return integer }
        default: break
        }
        throw EvaluationError("\(what) must be a whole number; it resolved to \(JSONWriter.string(value)).")
    }

    public static func boolean(_ value: JSONValue, _ what: String) throws(EvaluationError) -> Bool {
        switch value {
        case let .bool(flag): return flag
        case let .string(text) where text.lowercased() == "true": return true
        case let .string(text) where text.lowercased() == "false": return false
        default: throw EvaluationError("\(what) must be true or false; it resolved to \(JSONWriter.string(value)).")
        }
    }

    /// A start parameter's text converted by its declared type (spec §1.2).
    public static func parameter(_ text: String, as type: Parameter.ParameterType) -> JSONValue? {
        switch type {
        case .string: return .string(text)
        case .integer: return Int(text).map { .number(.int($0)) }
        case .float:
            if let integer = Int(text) { return .number(.double(Double(integer))) }
            return Double(text).flatMap { $0.isFinite ? .number(.double($0)) : nil }
        case .boolean:
            switch text.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return nil
            }
        }
    }
}

import Foundation
