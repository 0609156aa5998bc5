import AWSSignature
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// S3's XML, both ways: answers written as strings (they are small and
/// flat), the few request bodies S3 takes (complete a multipart upload,
/// delete objects) read with Foundation's XML parser.
enum S3XML {
    static let header = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    static let namespace = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

    static func element(_ name: String, _ value: String) -> String { "<\(name)>\(XML.escape(value))</\(name)>" }

    /// The records named `record` in a body, each as its child elements' texts,
    /// plus the texts of elements outside any record (e.g. `Quiet`).
    static func records(_ data: Data, named record: String, limit: Int) throws -> (records: [[String: String]], top: [String: String]) {
        let reader = Reader(record: record, limit: limit)
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        guard parser.parse(), !reader.tooMany else {
            throw AWSError(code: "MalformedXML", status: 400, message: reader.tooMany
                ? "the XML names more than \(limit) \(record) elements"
                : "The XML you provided was not well-formed or did not validate against our published schema")
        }
        return (reader.records, reader.top)
    }

    private final class Reader: NSObject, XMLParserDelegate {
        let record: String
        let limit: Int
        var records: [[String: String]] = []
        var top: [String: String] = [:]
        var current: [String: String]?
        var text = ""
        var tooMany = false

        init(record: String, limit: Int) {
            self.record = record
            self.limit = limit
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == record {
                current = [:]
            }
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if text.utf8.count < 4096 { text += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == record, let finished = current {
                records.append(finished)
                current = nil
                if records.count > limit {
                    tooMany = true
                    parser.abortParsing()
                }
            } else if current != nil {
                current?[name] = text
            } else {
                top[name] = text
            }
            text = ""
        }
    }
}
