import ArgumentParser

@main
struct SwallocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swalloc",
        abstract: "Run programs under the Swalloc allocator interposer and read what they allocated.",
        subcommands: [RunCommand.self, ReportCommand.self, CompareCommand.self, LibCommand.self])
}
