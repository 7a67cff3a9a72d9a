// Hand-written glue (not generated).
import Foundation

/// The log directory shared by the Network Extension (which writes it) and
/// the containing app (which may flush it).
///
/// On Apple platforms the directory gets the file-protection class
/// `completeUntilFirstUserAuthentication`, so the extension can append while
/// the device is locked, and is excluded from backups. The library holds a
/// file lock only while one buffer operation or one upload runs, never while
/// idle, so a suspended app holds none (no `0xdead10cc` termination);
/// flush from the app only inside a background task.
public enum LogDirectory {
    /// The subdirectory of the app-group container used by default.
    public static let defaultName = "sockstatlog"

    /// Creates `url` (and its parents) if needed, sets its protection class
    /// and backup exclusion, and returns it.
    ///
    /// - Throws: ``SockstatGlueError/logDirectory(_:)`` when it cannot be
    ///   created or is not a directory.
    @discardableResult
    public static func prepare(_ url: URL) throws -> URL {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw SockstatGlueError.logDirectory("\(url.path) exists and is not a directory")
        }
        do {
            #if canImport(Darwin)
            try manager.createDirectory(
                at: url, withIntermediateDirectories: true,
                attributes: [.protectionKey: FileProtectionType.completeUntilFirstUserAuthentication])
            try manager.setAttributes(
                [.protectionKey: FileProtectionType.completeUntilFirstUserAuthentication], ofItemAtPath: url.path)
            var values = URLResourceValues()
            values.isExcludedFromBackup = true
            var mutableURL = url
            try mutableURL.setResourceValues(values)
            #else
            try manager.createDirectory(at: url, withIntermediateDirectories: true)
            #endif
        } catch {
            throw SockstatGlueError.logDirectory("\(url.path): \(error.localizedDescription)")
        }
        return url
    }

    #if canImport(Darwin)
    /// Prepares `name` inside the container of `appGroup`, the directory both
    /// the extension and the app see.
    ///
    /// - Throws: ``SockstatGlueError/noAppGroupContainer(_:)`` without the
    ///   App Groups entitlement.
    public static func inAppGroup(_ appGroup: String, name: String = defaultName) throws -> URL {
        guard let container = FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: appGroup) else {
            throw SockstatGlueError.noAppGroupContainer(appGroup)
        }
        return try prepare(container.appendingPathComponent(name, isDirectory: true))
    }
    #endif
}
