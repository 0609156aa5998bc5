import Foundation

/// How a peer's routing id appears in a diagnostic: as text when it is
/// printable (workers name their sockets), else as hex (libzmq's own ids are
/// binary), cut to 64 bytes so a peer cannot flood the log through its id.
func peerName(_ identity: [UInt8]) -> String {
    let shown = identity.prefix(64)
    let suffix = identity.count > 64 ? "…" : ""
    if !shown.isEmpty && shown.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(decoding: shown, as: UTF8.self) + suffix }
    return "0x" + shown.map { String(format: "%02x", $0) }.joined() + suffix
}
