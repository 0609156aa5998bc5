import GRDB

/// The schema, only ever changed by appending a migration.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: executions, steps, instances, functions") { db in
            try db.create(table: "execution") { table in
                table.primaryKey("id", .text)
                table.column("pipelineName", .text).notNull().indexed()
                table.column("status", .text).notNull()
                table.column("definition", .text).notNull()
                table.column("parameters", .text).notNull()
                table.column("startedAt", .datetime).notNull().indexed()
                table.column("endedAt", .datetime)
                table.column("failureReason", .text)
            }
            try db.create(table: "step") { table in
                table.column("executionId", .text).notNull().references("execution", onDelete: .cascade)
                table.column("name", .text).notNull()
                table.column("type", .text).notNull()
                table.column("status", .text).notNull()
                table.column("startedAt", .datetime)
                table.column("endedAt", .datetime)
                table.column("failureReason", .text)
                table.column("properties", .text)
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.primaryKey(["executionId", "name"])
            }
            try db.create(table: "instance") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("executionId", .text).notNull().references("execution", onDelete: .cascade)
                table.column("stepName", .text).notNull()
                table.column("instance", .integer).notNull()
                table.column("attempt", .integer).notNull()
                table.column("worker", .text)
                table.column("status", .text).notNull()
                table.column("startedAt", .datetime)
                table.column("endedAt", .datetime)
                table.column("exitCode", .integer)
                table.column("failureReason", .text)
                table.column("cpuSeconds", .double)
                table.column("peakRSSBytes", .integer)
                table.uniqueKey(["executionId", "stepName", "instance", "attempt"])
            }
            try db.create(table: "function") { table in
                table.primaryKey("name", .text)
                table.column("handler", .text).notNull()
                table.column("codePath", .text).notNull()
                table.column("timeoutSeconds", .integer).notNull()
                table.column("createdAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v2: usage, tags") { db in
            try db.alter(table: "instance") { table in
                table.add(column: "instanceType", .text)
                table.add(column: "wallSeconds", .double)
                table.add(column: "bytesIn", .integer)
                table.add(column: "bytesOut", .integer)
            }
            try db.create(index: "instance_startedAt", on: "instance", columns: ["startedAt"])
            try db.alter(table: "execution") { table in
                table.add(column: "tags", .text).notNull().defaults(to: "{}")
            }
            try db.create(table: "instance_tag") { table in
                table.column("instanceId", .integer).notNull().references("instance", onDelete: .cascade)
                table.column("key", .text).notNull()
                table.column("value", .text).notNull()
                table.primaryKey(["instanceId", "key"])
            }
            try db.create(index: "instance_tag_key_value", on: "instance_tag", columns: ["key", "value", "instanceId"])
        }
        migrator.registerMigration("v3: usage rollup") { db in
            // Usage summed per day, pipeline, step, instance type and tag set, kept by a
            // trigger as instances end, so cost reports read thousands of rows, not millions.
            try db.execute(sql: """
                CREATE TABLE usage_rollup (
                    day TEXT NOT NULL, pipelineName TEXT NOT NULL, stepName TEXT NOT NULL, instanceType TEXT NOT NULL,
                    tagset TEXT NOT NULL, instances INTEGER NOT NULL, wallSeconds REAL NOT NULL, cpuSeconds REAL NOT NULL,
                    PRIMARY KEY (day, pipelineName, stepName, instanceType, tagset)
                ) WITHOUT ROWID;
                CREATE TRIGGER instance_usage AFTER UPDATE OF endedAt ON instance
                WHEN OLD.endedAt IS NULL AND NEW.endedAt IS NOT NULL
                BEGIN
                    INSERT INTO usage_rollup (day, pipelineName, stepName, instanceType, tagset, instances, wallSeconds, cpuSeconds)
                    VALUES (
                        substr(NEW.startedAt, 1, 10),
                        COALESCE((SELECT pipelineName FROM execution WHERE id = NEW.executionId), ''),
                        NEW.stepName, COALESCE(NEW.instanceType, ''),
                        COALESCE((SELECT group_concat(key || char(30) || value, char(31))
                                  FROM (SELECT key, value FROM instance_tag WHERE instanceId = NEW.id ORDER BY key)), ''),
                        1, COALESCE(NEW.wallSeconds, 0), COALESCE(NEW.cpuSeconds, 0))
                    ON CONFLICT DO UPDATE SET
                        instances = instances + 1,
                        wallSeconds = wallSeconds + excluded.wallSeconds,
                        cpuSeconds = cpuSeconds + excluded.cpuSeconds;
                END;
                INSERT INTO usage_rollup (day, pipelineName, stepName, instanceType, tagset, instances, wallSeconds, cpuSeconds)
                SELECT substr(i.startedAt, 1, 10), COALESCE(e.pipelineName, ''), i.stepName, COALESCE(i.instanceType, ''),
                       COALESCE((SELECT group_concat(key || char(30) || value, char(31))
                                 FROM (SELECT key, value FROM instance_tag WHERE instanceId = i.id ORDER BY key)), '') AS tagset,
                       COUNT(*), SUM(COALESCE(i.wallSeconds, 0)), SUM(COALESCE(i.cpuSeconds, 0))
                FROM instance i LEFT JOIN execution e ON e.id = i.executionId
                WHERE i.endedAt IS NOT NULL
                GROUP BY 1, 2, 3, 4, 5;
                """)
        }
        migrator.registerMigration("v4: experiments") { db in
            try db.alter(table: "execution") { table in
                table.add(column: "experimentName", .text)
                table.add(column: "trialName", .text)
            }
            try db.create(index: "execution_experiment", on: "execution", columns: ["experimentName", "startedAt"])
            try db.create(table: "trial_component") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("executionId", .text).notNull().references("execution", onDelete: .cascade)
                table.column("stepName", .text).notNull()
                table.column("instance", .integer).notNull()
                table.column("experimentName", .text)
                table.column("trialName", .text)
                table.column("status", .text).notNull()
                table.column("startedAt", .datetime)
                table.column("endedAt", .datetime)
                table.column("parameters", .text).notNull()
                table.column("inputs", .text).notNull()
                table.column("outputs", .text).notNull()
                table.uniqueKey(["executionId", "stepName", "instance"], onConflict: .replace)
            }
            try db.create(index: "trial_component_trial", on: "trial_component", columns: ["trialName"])
            try db.create(table: "metric") { table in
                table.column("componentId", .integer).notNull().references("trial_component", onDelete: .cascade)
                table.column("name", .text).notNull()
                table.column("value", .double).notNull()
                table.primaryKey(["componentId", "name"], onConflict: .replace)
            }
        }
        migrator.registerMigration("v5: pipeline registry") { db in
            try db.create(table: "pipeline") { table in
                table.primaryKey("name", .text)
                table.column("description", .text)
                table.column("tags", .text).notNull().defaults(to: "{}")
                table.column("createdAt", .datetime).notNull()
                table.column("latestVersion", .integer).notNull()
            }
            try db.create(table: "pipeline_version") { table in
                table.column("pipelineName", .text).notNull().references("pipeline", onDelete: .cascade)
                table.column("version", .integer).notNull()
                table.column("definition", .text).notNull()
                table.column("digest", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("author", .text).notNull()
                table.primaryKey(["pipelineName", "version"])
            }
            try db.alter(table: "execution") { table in
                table.add(column: "pipelineVersion", .integer)
                table.add(column: "parentExecutionId", .text).indexed()
            }
        }
        migrator.registerMigration("v6: execution owner") { db in
            try db.alter(table: "execution") { table in
                table.add(column: "ownerEndpoint", .text)
                table.add(column: "ownerHost", .text)
                table.add(column: "ownerProcess", .integer)
            }
        }
        migrator.registerMigration("v7: step cache") { db in
            try db.create(table: "step_cache") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("pipelineName", .text).notNull()
                table.column("stepName", .text).notNull()
                table.column("argumentsKey", .text).notNull()
                table.column("inputsKey", .text).notNull()
                table.column("executionId", .text).notNull()
                table.column("properties", .text).notNull()
                table.column("outputs", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(index: "step_cache_lookup", on: "step_cache", columns: ["pipelineName", "stepName", "argumentsKey"])
            try db.alter(table: "step") { table in
                table.add(column: "cacheSourceExecutionId", .text)
                table.add(column: "note", .text)
            }
        }
        migrator.registerMigration("v8: step retry note") { db in
            try db.alter(table: "step") { table in table.add(column: "retryNote", .text) }
        }
        migrator.registerMigration("v9: callbacks") { db in
            try db.create(table: "callback") { table in
                table.primaryKey("token", .text)
                table.column("executionId", .text).notNull().references("execution", onDelete: .cascade).indexed()
                table.column("stepName", .text).notNull()
                table.column("queueUrl", .text)
                table.column("message", .text).notNull()
                table.column("status", .text).notNull().indexed()
                table.column("createdAt", .datetime).notNull()
                table.column("answeredAt", .datetime)
                table.column("outputs", .text)
                table.column("failureReason", .text)
            }
        }
        migrator.registerMigration("v10: queues") { db in
            try db.create(table: "queue") { table in
                table.primaryKey("name", .text)
                table.column("visibilityTimeout", .integer).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "queue_message") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("queueName", .text).notNull().references("queue", onDelete: .cascade)
                table.column("messageId", .text).notNull()
                table.column("body", .text).notNull()
                table.column("sentAt", .datetime).notNull()
                table.column("visibleAt", .datetime).notNull()
                table.column("receiptHandle", .text).indexed()
                table.column("receiveCount", .integer).notNull().defaults(to: 0)
            }
            try db.create(index: "queue_message_visible", on: "queue_message", columns: ["queueName", "visibleAt"])
        }
        migrator.registerMigration("v11: request tokens") { db in
            try db.create(table: "request_token") { table in
                table.primaryKey("token", .text)
                table.column("executionId", .text).notNull().references("execution", onDelete: .cascade)
                table.column("createdAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v12: model registry") { db in
            try db.create(table: "model") { table in
                table.primaryKey("name", .text)
                table.column("arn", .text).notNull()
                table.column("image", .text).notNull()
                table.column("modelDataUrl", .text)
                table.column("request", .text).notNull()
                table.column("executionId", .text).indexed()
                table.column("stepName", .text)
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "model_package_group") { table in
                table.primaryKey("name", .text)
                table.column("arn", .text).notNull()
                table.column("description", .text)
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "model_package") { table in
                table.primaryKey("arn", .text)
                table.column("groupName", .text).notNull().references("model_package_group", onDelete: .cascade)
                table.column("version", .integer).notNull()
                table.column("approvalStatus", .text).notNull()
                table.column("approvalDescription", .text)
                table.column("request", .text).notNull()
                table.column("executionId", .text)
                table.column("stepName", .text)
                table.column("createdAt", .datetime).notNull()
                table.column("modifiedAt", .datetime).notNull()
                table.uniqueKey(["groupName", "version"])
            }
        }
        // The console lists executions newest first and draws the instances of the last minutes.
        migrator.registerMigration("v13: listing and status indexes, map progress") { db in
            try db.create(index: "execution_startedAt", on: "execution", columns: ["startedAt"])
            try db.create(index: "execution_status", on: "execution", columns: ["status"])
            try db.alter(table: "step") { table in
                table.add(column: "itemsSucceeded", .integer)
                table.add(column: "itemsFailed", .integer)
                table.add(column: "itemsTotal", .integer)
            }
        }
        // A fan-out resumed after a crash finds the children it had started, item by item.
        migrator.registerMigration("v14: a map child's step and item, pipeline request tokens") { db in
            try db.alter(table: "execution") { table in
                table.add(column: "parentStepName", .text)
                table.add(column: "parentItem", .integer)
            }
            // Create, update and delete of pipelines sent again with their ClientRequestToken.
            try db.create(table: "pipeline_request_token") { table in
                table.primaryKey("token", .text)
                table.column("pipelineName", .text).notNull()
                table.column("version", .integer)
                table.column("createdAt", .datetime).notNull()
            }
        }
        // A resumed step keeps its instances that completed before the crash (their staged outputs are still there).
        migrator.registerMigration("v15: a completed instance's outcome") { db in
            try db.alter(table: "instance") { table in table.add(column: "outcome", .text) }
        }
        return migrator
    }
}
