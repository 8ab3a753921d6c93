import ArgumentParser
import Foundation
import SwallocProfile

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a saved JSON profile.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: "The profile (SWALLOC_OUT of a run).")
    var file: String

    @Option(help: "text (default) or json (the profile re-emitted, normalized).")
    var format: Format = .text

    func run() throws {
        let profile: Profile
        do {
            profile = try Profile.load(path: file)
        } catch {
            FileHandle.standardError.write(Data("swalloc: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        switch format {
        case .text: print(TextReport.render(profile), terminator: "")
        case .json: print(profile.json())
        }
    }
}
