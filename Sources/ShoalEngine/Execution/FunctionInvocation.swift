import ShoalCluster
import ShoalRuntime
import ShoalStore

extension LambdaInvocation {
    /// An invocation of a registered function; its code is listed here, once
    /// per step, for workers that fetch it rather than read the home.
    init(calling function: FunctionRecord, events: [String]) throws {
        self.init(
            functionName: function.name, handler: function.handler, codePath: function.codePath,
            codeFiles: try FunctionCode.files(in: function.codePath), codeVersion: FunctionCode.version(of: function.createdAt),
            events: events, timeoutSeconds: function.timeoutSeconds
        )
    }
}
