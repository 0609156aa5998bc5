import ShoalDefinition
import ShoalEngine
import ShoalStore
import Testing

/// The scheduler fed events directly: no store, no sockets, no processes.
@Suite struct ExecutionStateTests {
    static func lambda(_ name: String, dependsOn: [String]? = nil) -> Step {
        Step.lambda(name, functionArn: "arn:aws:lambda:us-east-1:1:function:f", dependsOn: dependsOn)
    }

    /// The state of a definition, and its step indices by name.
    static func state(maxParallelSteps: Int? = nil, @StepsBuilder _ steps: () -> [Step]) throws -> (ExecutionState, [String: Int]) {
        let definition = PipelineDefinition(steps: steps())
        let graph = try #require(DefinitionCheck.check(definition).graph)
        var index: [String: Int] = [:]
        for (position, node) in graph.nodes.enumerated() { index[node.name] = position }
        return (ExecutionState(graph: graph, maxParallelSteps: maxParallelSteps), index)
    }

    @Test func stepsStartWhenWhatTheyDependOnSucceeded() throws {
        var (state, step) = try Self.state {
            Self.lambda("A")
            Self.lambda("B", dependsOn: ["A"])
            Self.lambda("C", dependsOn: ["B"])
            Self.lambda("D")
        }
        #expect(state.on(.advance) == [.start(step: step["A"]!), .start(step: step["D"]!)], "ready together, started together")
        #expect(state.on(.advance) == [])
        #expect(state.on(.stepEnded(step: step["A"]!, status: .succeeded, outcome: nil)) == [])
        #expect(state.on(.advance) == [.start(step: step["B"]!)])
        _ = state.on(.stepEnded(step: step["B"]!, status: .succeeded, outcome: nil))
        _ = state.on(.stepEnded(step: step["D"]!, status: .succeeded, outcome: nil))
        #expect(state.on(.advance) == [.start(step: step["C"]!)])
        #expect(!state.isFinished)
        _ = state.on(.stepEnded(step: step["C"]!, status: .succeeded, outcome: nil))
        #expect(state.isFinished)
        #expect(state.on(.finish) == [])
        #expect(state.outcome == .succeeded)
    }

    @Test(arguments: [true, false])
    func onlyTheTakenBranchRunsAndWhatFollowsTheOtherIsSkipped(outcome: Bool) throws {
        var (state, step) = try Self.state {
            Step.condition("Check", [.equals(1, 1)], ifSteps: { Self.lambda("Yes") }, elseSteps: { Self.lambda("No") })
            Self.lambda("AfterYes", dependsOn: ["Yes"])
            Self.lambda("AfterNo", dependsOn: ["No"])
        }
        #expect(state.on(.advance) == [.start(step: step["Check"]!)])
        _ = state.on(.stepEnded(step: step["Check"]!, status: .succeeded, outcome: outcome))
        let (taken, other) = outcome ? ("Yes", "No") : ("No", "Yes")
        let skippedBranch = outcome ? "ElseSteps" : "IfSteps"
        let directives = state.on(.advance)
        #expect(directives.contains(.start(step: step[taken]!)))
        #expect(directives.contains(.skip(step: step[other]!, reason: "the \(skippedBranch) branch of 'Check' was not taken")))
        #expect(directives.contains(.skip(step: step["After" + other]!, reason: "upstream step '\(other)' did not run")))
        #expect(directives.count == 3)
        #expect(state.statuses[step[other]!] == .notRun)
        _ = state.on(.stepEnded(step: step[taken]!, status: .succeeded, outcome: nil))
        #expect(state.on(.advance) == [.start(step: step["After" + taken]!)])
    }

    @Test func aFailedStepLetsRunningStepsFinishAndStartsNoNewOne() throws {
        var (state, step) = try Self.state {
            Self.lambda("Fails")
            Self.lambda("Slow")
            Self.lambda("Next", dependsOn: ["Slow"])
        }
        #expect(state.on(.advance) == [.start(step: step["Fails"]!), .start(step: step["Slow"]!)])
        _ = state.on(.stepEnded(step: step["Fails"]!, status: .failed, outcome: nil))
        #expect(state.on(.advance) == [])
        #expect(state.statuses[step["Slow"]!] == .executing, "a running step is not stopped by another's failure")
        _ = state.on(.stepEnded(step: step["Slow"]!, status: .succeeded, outcome: nil))
        #expect(state.on(.advance) == [], "Next is ready, but nothing starts after a failure")
        #expect(state.isFinished)
        #expect(state.on(.finish) == [.skip(step: step["Next"]!, reason: "step 'Fails' failed")])
        #expect(state.outcome == .failed)
        #expect(state.failedStep == step["Fails"]!)
    }

    @Test func aStopStopsRunningStepsAndNothingStartsAfter() throws {
        var (state, step) = try Self.state {
            Self.lambda("Running")
            Self.lambda("After", dependsOn: ["Running"])
            Self.lambda("Elsewhere", dependsOn: ["Running"])
        }
        _ = state.on(.advance)
        #expect(state.on(.stopRequested) == [.stop(step: step["Running"]!)])
        #expect(state.on(.stopRequested) == [], "a second stop changes nothing")
        _ = state.on(.stepEnded(step: step["Running"]!, status: .stopped, outcome: nil))
        #expect(state.on(.advance) == [
            .skip(step: step["After"]!, reason: "upstream step 'Running' did not run"),
            .skip(step: step["Elsewhere"]!, reason: "upstream step 'Running' did not run"),
        ])
        #expect(state.isFinished)
        #expect(state.outcome == .stopped)
    }

    @Test func stoppedBeforeStartingNothingStartsAndTheRestIsNotRun() throws {
        var (state, step) = try Self.state {
            Self.lambda("First")
        }
        #expect(state.on(.stopRequested) == [])
        #expect(state.on(.advance) == [])
        #expect(state.on(.finish) == [.skip(step: step["First"]!, reason: "the execution was stopped")])
        #expect(state.outcome == .stopped)
    }

    @Test func atMostMaxParallelStepsRunAtOnce() throws {
        var (state, step) = try Self.state(maxParallelSteps: 2) {
            Self.lambda("A")
            Self.lambda("B")
            Self.lambda("C")
        }
        #expect(state.on(.advance) == [.start(step: step["A"]!), .start(step: step["B"]!)])
        #expect(state.on(.advance) == [])
        _ = state.on(.stepEnded(step: step["B"]!, status: .succeeded, outcome: nil))
        #expect(state.on(.advance) == [.start(step: step["C"]!)])
    }

    @Test func theFirstEndOfAStepCountsAndLaterOnesAreIgnored() throws {
        var (state, step) = try Self.state {
            Self.lambda("A")
        }
        _ = state.on(.advance)
        _ = state.on(.stepEnded(step: step["A"]!, status: .succeeded, outcome: nil))
        _ = state.on(.stepEnded(step: step["A"]!, status: .failed, outcome: nil))
        _ = state.on(.stepEnded(step: 99, status: .failed, outcome: nil))
        #expect(state.statuses == [.succeeded])
        #expect(state.failedStep == nil)
        #expect(state.outcome == .succeeded)
    }
}
