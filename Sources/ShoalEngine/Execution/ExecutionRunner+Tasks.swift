import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// Tasks on workers: submitted with their attempt recorded first, results and
/// lost workers taken back, retries within the attempt limit, logs appended.
extension ExecutionRunner {
    enum TaskKind { case lambda, processing(host: Int), mapBatch(first: Int) }

    struct TaskOwner {
        let step: Int
        let instance: Int
        let kind: TaskKind
        let task: Task
        let requirements: [String: [String]]
        var record: InstanceRecord

        /// How retry policies name a failure of this task: a processing
        /// instance lost with its worker is capacity, one whose data could not
        /// be moved an internal error; a Lambda call or batch, a service fault.
        func failureClass(lost: Bool) -> FailureClass {
            guard case .processing = kind else { return .serviceFault }
            return lost ? .capacityError : .jobInternalError
        }
    }

    /// An attempt waiting for its policy's interval before it is submitted.
    struct PendingRetry {
        let due: Date
        let owner: TaskOwner
        let attempt: Int
    }

    /// `attempt` counts from 1 in this run of the step; records and keys carry
    /// it after the attempts made before a resume.
    func submit(
        _ index: Int, instance: Int, task: Task, owner kind: TaskKind, attempt relative: Int = 1, requirements: [String: [String]] = [:]
    ) throws {
        try submit(index, [(instance, task, kind)], attempt: relative, requirements: requirements)
    }

    /// Several tasks of one step at once (a processing step's instances): their
    /// attempts are recorded in one transaction, not one each, which is most of
    /// what starting 100 instances costs.
    func submit(
        _ index: Int, _ batch: [(instance: Int, task: Task, kind: TaskKind)], attempt relative: Int = 1, requirements: [String: [String]] = [:]
    ) throws {
        let run = steps[index]
        let attempt = run.attemptBase + relative
        let batch = reattachable.isEmpty && completedBefore.isEmpty
            ? batch : try batch.filter { try !takeBack(index, instance: $0.instance, task: $0.task, kind: $0.kind, requirements: requirements) }
        guard !batch.isEmpty, state.statuses[index] == .executing else { return }
        var keyed: [(key: TaskKey, instance: Int, task: Task, kind: TaskKind)] = []
        var records: [InstanceRecord] = []
        for (instance, task, kind) in batch {
            let taskId = if case .mapBatch = kind { "\(executionId)/\(run.node.name)/batch-\(instance)" } else { instanceTaskId(step: run.node.name, host: instance) }
            let key = TaskKey(taskId: taskId, attempt: attempt)
            var task = task
            if case let .processing(spec, _) = task { task = .processing(spec: spec, outputStaging: stagingFolder(index, host: instance, attempt: attempt)) }
            var record = InstanceRecord(executionId: executionId, stepName: run.node.name, instance: instance, attempt: attempt, status: .inProgress)
            record.startedAt = Date()
            switch task {
            case let .processing(spec, _):
                record.instanceType = spec.instanceType
                record.bytesIn = spec.inputBytes
            case let .lambda(invocation):
                record.instanceType = "lambda"
                record.bytesIn = invocation.events.reduce(0) { $0 + $1.utf8.count }
            }
            keyed.append((key, instance, task, kind))
            records.append(record)
        }
        try home.metadata.insert(&records, tags: Tags.merge(options.tags, run.plan?.tags ?? []))
        EngineMetrics.instancesStarted(records.count)
        for (item, record) in zip(keyed, records) {
            run.attempts += 1
            tasks[item.key] = TaskOwner(step: index, instance: item.instance, kind: item.kind, task: item.task, requirements: requirements, record: record)
            run.openTasks.insert(item.key)
            try dispatcher.submit(item.key, item.task, requirements: requirements)
        }
    }

    func handle(_ event: CoordinatorEndpoint.Event) throws {
        switch event {
        case .workerJoined:
            break
        case let .log(chunk):
            guard let owner = tasks[chunk.key] else { return }
            if let failure = appendLog(owner.step, instance: owner.instance, attempt: chunk.key.attempt, chunk.text) {
                try end(owner.step, .failed, reason: "algo-\(owner.instance): \(failure)")
            }
        case let .finished(finished):
            guard var owner = tasks.removeValue(forKey: finished.key) else { return }
            let run = steps[owner.step]
            run.openTasks.remove(finished.key)
            owner.record.endedAt = Date()
            owner.record.worker = finished.worker
            switch finished.result {
            case let .processing(outcome):
                owner.record.status = outcome.status == .completed ? .completed : .failed
                owner.record.exitCode = outcome.exitCode
                owner.record.failureReason = outcome.failureReason
                owner.record.cpuSeconds = outcome.cpuSeconds
                owner.record.peakRSSBytes = outcome.peakRSSBytes
                owner.record.wallSeconds = outcome.wallSeconds
                owner.record.bytesOut = outcome.outputs.reduce(0) { $0 + $1.bytes }
                owner.record.outcome = Self.keptOutcome(outcome)
                if owner.record.outcome != nil { steps[owner.step].keepsOutcomes = true }
                try home.metadata.update(owner.record)
                EngineMetrics.instanceEnded(owner.record)
                recordProcessingComponent(owner.step, host: owner.instance, outcome: outcome, started: owner.record.startedAt)
                try finishInstance(owner.step, host: owner.instance, outcome: outcome)
            case let .lambda(replies, seconds):
                let failures = replies.filter { $0.error != nil }.count
                owner.record.status = failures == 0 ? .completed : .failed
                owner.record.failureReason = replies.first { $0.error != nil }?.error.map { failures > 1 ? "\($0) (and \(failures - 1) more)" : $0 }
                owner.record.wallSeconds = seconds
                owner.record.bytesOut = replies.reduce(0) { $0 + ($1.result?.utf8.count ?? 0) }
                if case let .mapBatch(first) = owner.kind {
                    owner.record.outcome = MapBatchReplies(first: first, replies: replies).json
                    steps[owner.step].keepsOutcomes = true
                }
                try home.metadata.update(owner.record)
                EngineMetrics.instanceEnded(owner.record)
                if case let .mapBatch(first) = owner.kind {
                    try finishMapBatch(owner.step, first: first, replies: replies)
                    return
                }
                let reply = replies.first ?? LambdaReply(result: nil, error: "the worker sent no reply")
                if case let .lambda(invocation) = owner.task {
                    let numbers = reply.result.flatMap { try? JSONParser.parse($0) }.map { MetricFlattening.metrics(in: $0) } ?? []
                    recordComponent(
                        owner.step, instance: 1, status: owner.record.status, started: owner.record.startedAt,
                        parameters: ["FunctionName": .string(invocation.functionName), "Event": invocation.events.first.flatMap { try? JSONParser.parse($0) } ?? .null],
                        inputs: [], outputs: [], metrics: numbers
                    )
                }
                try finishLambda(owner.step, result: reply.result, error: reply.error)
            case let .rejected(reason):
                owner.record.status = .failed
                owner.record.failureReason = reason
                try home.metadata.update(owner.record)
                EngineMetrics.instanceEnded(owner.record)
                try end(owner.step, .failed, reason: "algo-\(owner.instance): \(reason)")
            case let .interrupted(reason):
                owner.record.status = .interrupted
                owner.record.endedAt = Date()
                owner.record.failureReason = reason
                try home.metadata.update(owner.record)
                EngineMetrics.instanceEnded(owner.record)
                try retry(owner, after: finished.key, failure: owner.failureClass(lost: false)) {
                    "algo-\(owner.instance): moving its data failed \(self.relativeAttempt(finished.key, owner)) times; last: \(reason)"
                }
            }
        case let .workerLost(id, host, keys):
            for key in keys {
                guard var owner = tasks.removeValue(forKey: key) else { continue }
                let run = steps[owner.step]
                run.openTasks.remove(key)
                owner.record.status = .lost
                owner.record.endedAt = Date()
                // The slot was held until the loss was noticed; that is what it cost.
                owner.record.wallSeconds = owner.record.endedAt!.timeIntervalSince(owner.record.startedAt ?? owner.record.endedAt!)
                owner.record.worker = id
                owner.record.failureReason = "worker \(id) on \(host) was lost"
                try home.metadata.update(owner.record)
                EngineMetrics.instanceEnded(owner.record)
                run.lostHosts.insert("\(id)@\(host)")
                try retry(owner, after: key, failure: owner.failureClass(lost: true)) {
                    "algo-\(owner.instance) was lost with its worker \(self.relativeAttempt(key, owner)) times (lost: \(run.lostHosts.sorted().joined(separator: ", ")))."
                }
            }
        case let .reattached(keys):
            for key in keys {
                guard let owner = tasks[key] else { continue }
                _ = appendLog(owner.step, instance: owner.instance, attempt: key.attempt, "shoal: the coordinator restarted while this instance ran; its worker reported it and it ran on (lines it logged meanwhile may be missing)\n")
            }
        case let .notReattached(keys):
            try runAgain(keys)
        }
    }

    /// Attempts of the previous life that no worker reported after the
    /// restart (queued then, or stopped with a worker): recorded lost and
    /// submitted again at once, a step's together, as the restarted step would
    /// have (they were not failures of this run: no retry policy counts them).
    private func runAgain(_ keys: [TaskKey]) throws {
        let now = Date()
        var lost: [InstanceRecord] = []
        var byStep: [Int: [TaskOwner]] = [:]
        for key in keys {
            guard let owner = tasks.removeValue(forKey: key) else { continue }
            steps[owner.step].openTasks.remove(key)
            lost.append(owner.record.lost(at: now, "no worker reported it still running within \(Int(options.reattachWindow)) s of the coordinator's restart"))
            byStep[owner.step, default: []].append(owner)
        }
        try home.metadata.update(lost)
        lost.forEach(EngineMetrics.instanceEnded)
        for (index, owners) in byStep.sorted(by: { $0.key < $1.key }) where state.statuses[index] == .executing {
            try submit(index, owners.map { ($0.instance, $0.task, $0.kind) }, requirements: owners[0].requirements)
        }
    }

    /// An attempt that ended without a verdict on the job (its worker lost, its
    /// data not moved): nothing it staged is committed, and a new attempt runs
    /// when the step's retry policies (or Shoal's default) allow, at once or
    /// after the policy's interval; else the step fails with `reason`.
    func retry(_ owner: TaskOwner, after key: TaskKey, failure: FailureClass, reason: () -> String) throws {
        try? FileManager.default.removeItem(atPath: stagingFolder(owner.step, host: owner.instance, attempt: key.attempt))
        guard state.statuses[owner.step] == .executing else { return }
        let run = steps[owner.step]
        // A taken-back attempt was made before the resume and does not count.
        let attempt = max(0, relativeAttempt(key, owner))
        let policies = run.step?.retryPolicies ?? []
        let rule = RetryRule(policies: policies, defaultAttempts: options.maxAttempts)
        guard attempt < Self.maxAttemptsPerInstance,
              let decision = rule.decide(after: attempt, failure: failure, stepStarted: run.startedAt ?? Date(), now: Date())
        else {
            let policyNote = policies.isEmpty ? "" : " (\(failure.rawValue): no retry left under the step's RetryPolicies)"
            return try end(owner.step, .failed, reason: reason() + policyNote)
        }
        let due = Date().addingTimeInterval(decision.delay)
        let when = decision.delay > 0 ? "starts at \(Identifiers.timestamp(due)), in \(String(format: "%.1f", decision.delay)) s" : "starts now"
        run.retryNote = "algo-\(owner.instance): attempt \(attempt) failed (\(failure.rawValue)); attempt \(attempt + 1) \(when), under \(decision.rule)"
        if let failed = appendLog(owner.step, instance: owner.instance, attempt: key.attempt, "shoal: \(run.retryNote!)\n") {
            return try end(owner.step, .failed, reason: "algo-\(owner.instance): \(failed)")
        }
        guard decision.delay > 0 else {
            return try submit(owner.step, instance: owner.instance, task: owner.task, owner: owner.kind, attempt: attempt + 1, requirements: owner.requirements)
        }
        pendingRetries.append(PendingRetry(due: due, owner: owner, attempt: attempt + 1))
        try save(owner.step)
    }

    /// Starts the retries whose wait is over (`advance` calls it).
    func startDueRetries(now: Date = Date()) throws {
        guard pendingRetries.contains(where: { $0.due <= now }) else { return }
        let due = pendingRetries.filter { $0.due <= now }
        pendingRetries.removeAll { $0.due <= now }
        for retry in due where state.statuses[retry.owner.step] == .executing {
            let owner = retry.owner
            try submit(owner.step, instance: owner.instance, task: owner.task, owner: owner.kind, attempt: retry.attempt, requirements: owner.requirements)
            if !pendingRetries.contains(where: { $0.owner.step == owner.step }) {
                steps[owner.step].retryNote = nil
                try save(owner.step)
            }
        }
    }

    /// However generous a policy, an instance runs at most this many times.
    static let maxAttemptsPerInstance = 100

    /// Appends to an instance's log (capped); returns why it could not, for the caller to fail the step.
    func relativeAttempt(_ key: TaskKey, _ owner: TaskOwner) -> Int { key.attempt - steps[owner.step].attemptBase }

    func appendLog(_ index: Int, instance: Int, attempt: Int, _ text: String) -> JobLogFile.WriteFailed? {
        let file = home.logFile(execution: executionId, step: steps[index].node.name, instance: instance, attempt: attempt)
        do {
            try JobLogFile.append(text, to: file, capBytes: options.maxLogBytes)
            return nil
        } catch {
            return error
        }
    }
}
