import ArgumentParser
import Foundation
import ShoalStore

struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The web console served under /console/ by `shoal serve` and `shoal coordinator --http`.",
        subcommands: [Token.self]
    )

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the console's token (made on first use), which a non-loopback console asks for.",
            discussion: """
                Open http://HOST:PORT/console/?token=TOKEN once: the browser keeps it in a cookie
                (HttpOnly, SameSite=Strict). A Prometheus scrape of /metrics sends it as
                `Authorization: Bearer TOKEN`. On loopback the console asks for nothing.
                The token lives in the home's console-token (readable by its owner only);
                delete that file and restart the server to change it.
                """
        )
        @OptionGroup var home: HomeOptions

        func run() throws {
            let store = try home.open()
            do { print(try ConsoleToken(home: store).value()) } catch { throw CommandFailure("\(error)") }
        }
    }
}
