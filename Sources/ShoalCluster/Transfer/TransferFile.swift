import Foundation

/// The file of one transfer the coordinator serves or receives. Its descriptor
/// may be closed while the transfer waits, when more transfers are under way
/// than the coordinator keeps files open, and is opened again where it left
/// off when the transfer goes on: the same file (device and inode), or the
/// transfer fails.
final class TransferFile {
    let path: String
    let writing: Bool
    private(set) var handle: FileHandle?
    private let device: UInt64
    private let inode: UInt64
    var offset: Int
    var crc: CRC32C
    var used = Date()

    init?(path: String, handle: FileHandle, writing: Bool, offset: Int = 0, crc: CRC32C = CRC32C()) {
        var info = stat()
        guard fstat(handle.fileDescriptor, &info) == 0 else { return nil }
        self.path = path
        self.handle = handle
        self.writing = writing
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        self.offset = offset
        self.crc = crc
    }

    deinit { try? handle?.close() }

    var isOpen: Bool { handle != nil }

    func close() {
        try? handle?.close()
        handle = nil
    }

    /// The open handle, at `offset`, opening the file again if it was closed.
    func open() throws -> FileHandle {
        if let handle { return handle }
        guard let reopened = writing ? FileHandle(forWritingAtPath: path) : FileHandle(forReadingAtPath: path) else {
            throw TransferFailed(description: "\(path) cannot be opened again")
        }
        var info = stat()
        guard fstat(reopened.fileDescriptor, &info) == 0, UInt64(info.st_dev) == device, UInt64(info.st_ino) == inode else {
            try? reopened.close()
            throw TransferFailed(description: "\(path) was replaced during the transfer")
        }
        try reopened.seek(toOffset: UInt64(offset))
        handle = reopened
        return reopened
    }
}
