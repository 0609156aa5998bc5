"""The web console and /metrics of `shoal serve`, in a real headless Chromium
(Selenium) and through prometheus_client's parser: pipelines started with boto3,
watched live, stopped with the console's button.

Run by ShoalCLITests/ConsoleTests with the environment `shoal env` prints, plus
SHOAL (the binary), SHOAL_HOME, and SHOTS (where screenshots go).
"""
import json
import os
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
from prometheus_client.parser import text_string_to_metric_families
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

HERE = os.path.dirname(os.path.abspath(__file__))
ABALONE = os.path.join(HERE, "..", "..", "examples", "abalone")
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
SHOTS = os.environ["SHOTS"]
FAILED_FILL = "rgb(255, 201, 201)"   # GraphLayout.colours[.failed]
SLEEP = {"Version": "2020-12-01", "Parameters": [], "Steps": [
    {"Name": "Sleep", "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/sleeper:1",
                             "ContainerEntrypoint": ["python3", "-c", "import time; print('sleeping', flush=True); time.sleep(3); print('awake', flush=True); time.sleep(120)"]},
        "RoleArn": ROLE}}]}


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait_for(what, condition, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout} s for {what}")


def store():
    return sqlite3.connect(os.path.join(os.environ["SHOAL_HOME"], "shoal.sqlite"))


class Console(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sm = boto3.client("sagemaker")
        s3 = boto3.client("s3")
        subprocess.run([os.environ["SHOAL"], "functions", "create", "--name", "sagemaker_test_lambda",
                        "--script", os.path.join(ABALONE, "lambda_fn.py"), "--handler", "lambda_fn.lambda_handler"], check=True)
        data = subprocess.run(["python3", os.path.join(ABALONE, "generate_data.py"), "4177"], capture_output=True, check=True).stdout
        s3.create_bucket(Bucket="my-bucket")
        s3.put_object(Bucket="my-bucket", Key="abalone/abalone-dataset.csv", Body=data)
        # The real preprocessing, three seconds late: long enough to see the step run.
        with open(os.path.join(ABALONE, "preprocess.py")) as source:
            s3.put_object(Bucket="my-bucket", Key="code/preprocess.py", Body=("import time; time.sleep(3)\n" + source.read()).encode())
        with open(os.path.join(ABALONE, "pipeline.json")) as definition:
            cls.sm.create_pipeline(PipelineName="AbalonePipeline", PipelineDefinition=definition.read(), RoleArn=ROLE)
        cls.sm.create_pipeline(PipelineName="Sleeper", PipelineDefinition=json.dumps(SLEEP), RoleArn=ROLE)
        cls.driver = browser()

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(SHOTS, name + ".png"))

    def start(self, pipeline, **parameters):
        arn = self.sm.start_pipeline_execution(
            PipelineName=pipeline, PipelineParameters=[{"Name": k, "Value": str(v)} for k, v in parameters.items()])["PipelineExecutionArn"]
        return arn, arn.rsplit("/", 1)[-1]

    def finish(self, arn):
        return wait_for("the execution to end", lambda: (lambda s: s if s not in ("Executing", "Stopping") else None)(
            self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]), timeout=300)

    def node(self, name):
        for group in self.driver.find_elements(By.CSS_SELECTOR, "#graph g.node"):
            if group.find_element(By.TAG_NAME, "title").get_attribute("textContent") == name:
                return group
        raise AssertionError(f"no node {name} in the graph")

    def test_1_the_graph_follows_a_run_to_the_failed_else_branch(self):
        arn, execution = self.start("AbalonePipeline", MseThreshold=0.5)
        self.driver.get(f"{ENDPOINT}/console/executions/{execution}")
        process = self.node("AbaloneProcess")
        # Live: the page was loaded once; only the event stream can change these.
        wait_for("AbaloneProcess to show Executing", lambda: process.get_attribute("data-status") == "Executing", timeout=120)
        self.shot("execution-running")
        fail = self.node("MseFail")
        wait_for("MseFail to show Failed", lambda: fail.get_attribute("data-status") == "Failed", timeout=120)
        shape = fail.find_element(By.CSS_SELECTOR, "polygon")
        self.assertEqual(shape.value_of_css_property("fill"), FAILED_FILL)
        self.assertEqual(self.node("AbaloneProcess").get_attribute("data-status"), "Succeeded")
        self.assertIn("Failed", self.driver.find_element(By.ID, "execution-status").text)
        self.assertEqual(self.finish(arn), "Failed")
        # The step panel: each instance with its worker, and its log.
        self.node("AbaloneProcess").click()
        wait_for("the step panel", lambda: "step=AbaloneProcess" in self.driver.current_url)
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#instances tbody tr")
        self.assertEqual(len(rows), 2)
        self.assertTrue(all("local-" in row.text for row in rows), [row.text for row in rows])
        wait_for("the log", lambda: "rows" in self.driver.find_element(By.ID, "log").text)
        # Resolved: the instance count is a parameter in the definition, a number here.
        resolved = json.loads(self.driver.find_element(By.ID, "resolved").text)
        self.assertEqual(resolved["ProcessingResources"]["ClusterConfig"]["InstanceCount"], 2)
        # The property file the condition read, as the step wrote it.
        report = json.loads(self.driver.find_element(By.CSS_SELECTOR, "pre[data-property-file='EvaluationReport']").text)
        self.assertGreater(report["regression_metrics"]["mse"]["value"], 0.5)
        self.shot("execution")

    def test_2_the_stop_button_stops_a_running_execution(self):
        arn, execution = self.start("Sleeper")
        self.driver.get(f"{ENDPOINT}/console/executions/{execution}")
        wait_for("Sleep to run", lambda: self.node("Sleep").get_attribute("data-status") == "Executing", timeout=60)
        # While it runs, the task stream puts it in its worker's lane (the coordinator says where).
        self.driver.get(f"{ENDPOINT}/console/cluster?minutes=1")
        bar = wait_for("Sleep's bar", lambda: self.driver.find_elements(By.CSS_SELECTOR, f"#task-stream rect.task[data-execution='{execution}']"))
        self.assertTrue(bar[0].get_attribute("data-worker").startswith("local-"), bar[0].get_attribute("data-worker"))
        # Its log is followed while it runs.
        self.driver.get(f"{ENDPOINT}/console/executions/{execution}?step=Sleep")
        wait_for("the running job's log", lambda: "sleeping" in self.driver.find_element(By.ID, "log").text)
        wait_for("more of it", lambda: "awake" in self.driver.find_element(By.ID, "log").text)
        self.driver.find_element(By.ID, "stop").click()
        self.assertEqual(self.finish(arn), "Stopped")
        self.driver.get(f"{ENDPOINT}/console/executions/{execution}")
        self.assertEqual(self.node("Sleep").get_attribute("data-status"), "Stopped")
        self.assertEqual(self.driver.find_elements(By.ID, "stop"), [])

    def test_3_the_experiment_chart_has_one_point_per_trial(self):
        arn, _ = self.start("AbalonePipeline")
        self.assertEqual(self.finish(arn), "Succeeded")
        metric = "regression_metrics.mse.value"
        self.driver.get(f"{ENDPOINT}/console/experiments/AbalonePipeline?metric={metric}&sort={metric}")
        trials = self.driver.find_elements(By.CSS_SELECTOR, "#trials tbody tr")
        with store() as db:
            recorded = db.execute("SELECT COUNT(DISTINCT c.executionId) FROM trial_component c JOIN metric m ON m.componentId = c.id "
                                  "WHERE c.experimentName = 'AbalonePipeline' AND m.name = ?", (metric,)).fetchone()[0]
        self.assertGreaterEqual(recorded, 2)
        self.assertEqual(len(trials), recorded)
        points = self.driver.execute_script("return window.shoalChart.data.datasets[0].data.length")
        self.assertEqual(points, recorded)
        self.shot("experiments")

    def test_4_the_task_stream_has_one_bar_per_instance(self):
        self.driver.get(f"{ENDPOINT}/console/cluster?minutes=1")
        with store() as db:
            instances = db.execute("SELECT COUNT(*) FROM instance WHERE startedAt IS NOT NULL").fetchone()[0]
        bars = self.driver.find_elements(By.CSS_SELECTOR, "#task-stream rect.task")
        self.assertGreaterEqual(instances, 7)
        self.assertEqual(len(bars), instances)
        # Ended instances, the stopped one included, sit in their workers' lanes.
        self.assertEqual({bar.get_attribute("data-worker") for bar in bars}, {"local-1", "local-2"})
        self.assertEqual(len(self.driver.find_elements(By.CSS_SELECTOR, "#workers tbody tr")), 2)
        self.shot("cluster")
        self.driver.get(f"{ENDPOINT}/console/cost?by=tag&tag=pipeline-cost-tag")
        self.assertEqual(self.driver.execute_script("return window.shoalChart.config.type"), "bar")
        self.shot("cost")

    def test_4b_a_map_step_shows_its_counts_and_links_its_children(self):
        child = {"Version": "2020-12-01", "Parameters": [{"Name": "Item", "Type": "String"}, {"Name": "ItemIndex", "Type": "Integer"}], "Steps": [
            {"Name": "Check", "Type": "Condition", "Arguments": {
                "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Parameters.Item"}, "RightValue": "bad"}],
                "IfSteps": [{"Name": "Bad", "Type": "Fail", "Arguments": {"ErrorMessage": "bad item"}}], "ElseSteps": []}}]}
        parent = {"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "FanOut", "Type": "Shoal:Map", "Arguments": {
            "Items": ["a", "bad", "ccc"], "Definition": child, "ToleratedFailureCount": 1, "ResultsS3Uri": "s3://my-bucket/fanout/results.json"}}]}
        self.sm.create_pipeline(PipelineName="FanOut", PipelineDefinition=json.dumps(parent), RoleArn=ROLE)
        arn, execution = self.start("FanOut")
        self.assertEqual(self.finish(arn), "Succeeded")
        self.driver.get(f"{ENDPOINT}/console/executions/{execution}?step=FanOut")
        texts = self.node("FanOut").find_elements(By.TAG_NAME, "text")
        self.assertEqual(texts[-1].get_attribute("textContent"), "2 ✓ 1 ✗ / 3")
        children = self.driver.find_elements(By.CSS_SELECTOR, "#children tbody tr a")
        self.assertEqual(len(children), 3)
        statuses = sorted(row.text.split()[1] for row in self.driver.find_elements(By.CSS_SELECTOR, "#children tbody tr"))
        self.assertEqual(statuses, ["Failed", "Succeeded", "Succeeded"])
        children[0].click()
        wait_for("a child's page", lambda: "Map parent" in self.driver.find_element(By.TAG_NAME, "main").text)
        self.assertEqual(self.driver.find_elements(By.TAG_NAME, "button"), [], "a child is its parent's to stop or retry")
        self.shot("map")

    def test_4c_the_list_offers_retry_where_it_applies(self):
        self.driver.get(f"{ENDPOINT}/console/executions")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#executions tbody tr")
        self.assertGreaterEqual(len(rows), 3)
        for row in rows:
            status = row.find_element(By.CSS_SELECTOR, ".pill").text
            buttons = [b.text for b in row.find_elements(By.TAG_NAME, "button")]
            self.assertEqual(buttons, ["Retry"] if status in ("Failed", "Stopped") else [], row.text)
        self.driver.get(f"{ENDPOINT}/console/executions?status=Failed")
        self.assertTrue(all("Failed" in row.text for row in self.driver.find_elements(By.CSS_SELECTOR, "#executions tbody tr")))
        self.shot("executions")

    def test_5_metrics_agree_with_the_store(self):
        text = urllib.request.urlopen(f"{ENDPOINT}/metrics").read().decode()
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        with store() as db:
            by_status = dict(db.execute("SELECT status, COUNT(*) FROM execution GROUP BY status").fetchall())
            started = db.execute("SELECT COUNT(*) FROM instance").fetchone()[0]
            completed = db.execute("SELECT COUNT(*) FROM instance WHERE status = 'Completed'").fetchone()[0]
            steps = dict(db.execute("SELECT status, COUNT(*) FROM step GROUP BY status").fetchall())
        for status in ("Succeeded", "Failed", "Stopped"):
            self.assertEqual(samples[("shoal_executions", (("status", status),))], by_status.get(status, 0), status)
        # Every instance of this home ran under this server, so its counters saw them all.
        self.assertEqual(samples[("shoal_instances_started_total", ())], started)
        self.assertEqual(samples[("shoal_instances_ended_total", (("status", "Completed"),))], completed)
        for status in ("Succeeded", "Failed", "Stopped"):
            self.assertEqual(samples[("shoal_steps_ended_total", (("status", status),))], steps.get(status, 0), status)
        self.assertEqual(samples[("shoal_running_steps", (("status", "Executing"),))], 0)
        self.assertEqual(samples[("shoal_workers", ())], 2)
        self.assertEqual(samples[("shoal_instance_duration_seconds_count", ())], started)
        # Each attempt was queued once and placed once.
        self.assertEqual(samples[("shoal_dispatch_latency_seconds_count", ())], started)

    def test_6_off_loopback_the_console_wants_its_token_and_buttons_their_csrf_token(self):
        home = tempfile.mkdtemp(prefix="shoal-console-")
        log = open(os.path.join(home, "serve.txt"), "w")
        env = dict(os.environ, SHOAL_HOME=home)
        server = subprocess.Popen([os.environ["SHOAL"], "serve", "--bind", "127.0.0.2:0", "--insecure", "--workers", "1"], env=env, stderr=log)
        try:
            text = wait_for("the second server", lambda: (lambda t: t if "http://127.0.0.2:" in t else None)(open(log.name).read()))
            base = "http://127.0.0.2:" + text.split("http://127.0.0.2:")[1].split()[0]
            token = subprocess.run([os.environ["SHOAL"], "console", "token"], env=env, capture_output=True, text=True, check=True).stdout.strip()
            with self.assertRaises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + "/console/executions")
            self.assertEqual(refused.exception.code, 401)
            with self.assertRaises(urllib.error.HTTPError) as wrong:
                urllib.request.urlopen(base + "/console/executions?token=not-the-token")
            self.assertEqual(wrong.exception.code, 403)
            # A scraper brings it as a bearer token.
            request = urllib.request.Request(base + "/metrics", headers={"Authorization": "Bearer " + token})
            self.assertIn("shoal_executions", urllib.request.urlopen(request).read().decode())
            # A browser brings it once and keeps it in a cookie it cannot read from script.
            self.driver.get(base + "/console/executions?token=" + token)
            self.assertTrue(self.driver.current_url.endswith("/console/executions"), self.driver.current_url)
            self.assertEqual(self.driver.find_element(By.TAG_NAME, "h1").text, "Executions")
            cookie = self.driver.get_cookie("shoal_console")
            self.assertTrue(cookie["httpOnly"])
            self.assertEqual(cookie["sameSite"], "Strict")
            self.assertEqual(self.driver.execute_script("return document.cookie"), "")
            # With the cookie but without the form's CSRF token, a button's post is refused.
            posted = self.driver.execute_async_script("""
                const done = arguments[0];
                fetch('/console/executions/none/stop', {method: 'POST', body: 'x=1', headers: {'Content-Type': 'application/x-www-form-urlencoded'}})
                  .then(r => done(r.status));""")
            self.assertEqual(posted, 403)
            self.shot("token")
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
