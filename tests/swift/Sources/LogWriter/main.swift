// A second process writing a log directory, as the Network Extension does
// while the containing app flushes it:
//   LogWriter <dir> <public log id> <first> <count>
// writes the lines {"n":first} ... {"n":first+count-1}, stores them (flush
// without a server), prints "stored", keeps the logger open until its
// standard input closes, then shuts down.
import Foundation
import SockstatLog

let arguments = CommandLine.arguments
guard arguments.count == 5, let first = Int(arguments[3]), let count = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: LogWriter <dir> <public log id> <first> <count>\n".utf8))
    exit(2)
}
do {
    var options = defaultLoggerOptions()
    options.pollPeriodMs = 3_600_000
    options.batchPeriodMs = 3_600_000
    let logger = try Logger(logDir: arguments[1], publicLogId: arguments[2], source: CounterTable(), options: options)
    for n in first..<(first + count) {
        try logger.write(text: "{\"n\":\(n)}")
    }
    _ = try logger.flush(deadlineMs: 5_000)
    FileHandle.standardOutput.write(Data("stored\n".utf8))
    _ = FileHandle.standardInput.readDataToEndOfFile()
    try logger.shutdown(deadlineMs: 5_000)
} catch {
    FileHandle.standardError.write(Data("LogWriter: \(error)\n".utf8))
    exit(1)
}
