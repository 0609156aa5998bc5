import ShoalDefinition
import Testing

@Suite struct JSONParserTests {
    @Test func keepsKeyOrderAndIntegerVersusFloat() throws {
        let value = try JSONParser.parse(#"{"b": 2, "a": 2.0, "c": -0.5e1}"#)
        guard case let .object(fields) = value else { Issue.record("not an object"); return }
        #expect(fields.keys == ["b", "a", "c"])
        #expect(fields["b"] == .number(.int(2)))
        #expect(JSONWriter.string(value) == #"{"b":2,"a":2.0,"c":-5.0}"#)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#"["a\"b\\c\/d\n", "\u00e9\ud83d\ude00", "plain é"]"#)
        #expect(value == ["a\"b\\c/d\n", "é😀", "plain é"])
        #expect(try JSONParser.parse(JSONWriter.string(value)) == value)
    }

    @Test(arguments: [
        ("{\"a\": 1,}", "expected a member name in double quotes", 1, 9),
        ("[1 2]", "expected ',' or ']' after the array element", 1, 4),
        ("{\n  \"a\": tru\n}", "expected a value", 2, 8),
        ("\"open", "the string that starts here is not closed", 1, 1),
        ("{} x", "unexpected text after the JSON value", 1, 4),
        ("[01]", "expected ',' or ']' after the array element", 1, 3),
        ("", "expected a value but the text ended", 1, 1),
        ("{\"é\": x}", "expected a value", 1, 7),
    ])
    func reportsWhereTheTextStopsBeingJSON(text: String, reason: String, line: Int, column: Int) {
        #expect(throws: JSONSyntaxError(reason: reason, line: line, column: column)) { try JSONParser.parse(text) }
    }

    @Test func refusesNestingBeyondTheLimit() {
        let deep = String(repeating: "[", count: JSONParser.maxDepth + 2) + String(repeating: "]", count: JSONParser.maxDepth + 2)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
    }

    @Test func numbersCompareByValue() {
        #expect(JSONNumber.int(6) == JSONNumber.double(6.0))
        #expect(JSONNumber.double(0.25) != JSONNumber.int(0))
    }
}
