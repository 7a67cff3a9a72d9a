// Hand-written glue (not generated).
import Foundation

extension LogUploader: Flushing {
    /// ``LogUploader/flush(deadlineMs:)``, summed up. When the extension
    /// (or another handle) is uploading the same directory at that moment,
    /// the summary says ``FlushSummary/otherUploaderActive`` and nothing was
    /// sent twice.
    public func flushSummary(deadlineMs: UInt64) throws -> FlushSummary {
        FlushSummary(try flush(deadlineMs: deadlineMs))
    }
}
