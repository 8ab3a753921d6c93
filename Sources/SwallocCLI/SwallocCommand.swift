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
            if status == .success {
                // Help and version: as ArgumentParser writes them, on stdout.
                let message = fullMessage(for: error)
                if !message.isEmpty {
                    let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
                    let text = lines.map { TerminalText.escaped(String($0)) }.joined(separator: "\n") + "\n"
                    _ = try? DescriptorWriter.write(Array(text.utf8), to: 1)
                }
            } else {
                // A failure is one line, as every other of swalloc's
                // (docs/command-line.md): the message without the usage
                // ArgumentParser adds (`--help` shows that).
                let message = self.message(for: error)
                    .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    .joined(separator: "; ")
                if !message.isEmpty { StandardStreams.diagnose(message) }
            }
        }
        Foundation.exit(status.rawValue)
    }
}
