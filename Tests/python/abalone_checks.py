"""What the SDK v2 and v3 suites share: the abalone data they upload and what
each branch of the abalone pipeline must leave behind, however the SDK wrote it."""
import csv
import os
import random

from botocore.exceptions import WaiterError


def abalone_csv(path, seed, sex, rows=400):
    """Rows shaped like abalone's: rings grow with shell weight (column 8), plus noise."""
    random.seed(seed)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        for _ in range(rows):
            shell = random.uniform(0.05, 0.8)
            writer.writerow([sex, 0.5, 0.4, 0.1, 0.5, 0.2, 0.1, round(shell, 4), round(3 + 14 * shell + random.gauss(0, 1), 2)])
    return path


def check_if_branch(test, execution, s3, bucket):
    """Started with the defaults: every step succeeds; one instance had the one CSV and wrote its train split."""
    execution.wait(delay=1, max_attempts=120)
    steps = {s["StepName"]: s for s in execution.list_steps()}
    test.assertEqual({name: s["StepStatus"] for name, s in steps.items()},
                     {"MyLambdaStep": "Succeeded", "AbaloneProcess": "Succeeded", "CheckMse": "Succeeded"})
    test.assertEqual(steps["CheckMse"]["Metadata"]["Condition"]["Outcome"], "True")
    test.assertIn("ProcessingJob", steps["AbaloneProcess"]["Metadata"])
    execution_id = execution.arn.split("/")[-1]
    trained = s3.list_objects_v2(Bucket=bucket, Prefix="training/" + execution_id + "/")
    test.assertEqual(sorted(o["Key"].rsplit("/", 1)[1] for o in trained["Contents"]), ["algo-1.csv"])
    test.assertEqual(execution.describe()["PipelineExecutionStatus"], "Succeeded")


def check_else_branch(test, execution):
    """Started with MseThreshold 0: the condition is false and the fail step fails the execution with its message."""
    with test.assertRaises(WaiterError):
        execution.wait(delay=1, max_attempts=120)
    test.assertEqual(execution.describe()["PipelineExecutionStatus"], "Failed")
    steps = {s["StepName"]: s for s in execution.list_steps()}
    test.assertEqual(steps["CheckMse"]["Metadata"]["Condition"]["Outcome"], "False")
    test.assertEqual(steps["MseFail"]["StepStatus"], "Failed")
    test.assertEqual(steps["MseFail"]["Metadata"]["Fail"]["ErrorMessage"], "MSE above 0.0")
