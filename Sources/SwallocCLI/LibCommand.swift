import ArgumentParser

struct LibCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lib",
        abstract: "Print the absolute path of the libswalloc.so this swalloc belongs with.",
        discussion: "Use it as LD_PRELOAD=$(swalloc lib) PROGRAM.")

    func run() throws {
        do {
            print(try LibraryLocator.locate())
        } catch let error as CLIError {
            throw ValidationError(error.description)
        }
    }
}
