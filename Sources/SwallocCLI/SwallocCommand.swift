import ArgumentParser
import Foundation
import SwallocReport

@main
struct SwallocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swalloc",
        abstract: "Run programs under the Swalloc allocator interposer and read what they allocated.",
        subcommands: [RunCommand.self, ReportCommand.self, DumpCommand.self, CompareCommand.self, LibCommand.self])

    /// ArgumentParser's main, but its messages (which quote what the user
    /// typed: `The value '…' is invalid for '--format'`) are escaped for
    /// the terminal, and written without trapping if the stream is closed
    /// or full.
    static func main() {
        let status: ExitCode
        do {
            var command = try parseAsRoot()
            try command.run()
            status = .success
        } catch {
            status = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
                let text = lines.map { TerminalText.escaped(String($0)) }.joined(separator: "\n") + "\n"
                _ = try? DescriptorWriter.write(Array(text.utf8), to: status == .success ? 1 : 2)
            }
        }
        Foundation.exit(status.rawValue)
    }
}
