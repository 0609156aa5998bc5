/// The console's only script: live colours on the execution page (server-sent
/// events), map counts in the graph, clicks on nodes, and following a log.
enum ConsoleScript {
    static let source = #"""
        (function () {
          "use strict";
          function pill(status) {
            const span = document.createElement("span");
            span.className = "pill s-" + status;
            span.textContent = status;
            return span;
          }
          function setProgress(index, text) {
            const node = document.getElementById("step" + index);
            if (node) {
              const texts = node.querySelectorAll("text");
              if (texts.length >= 3) texts[texts.length - 1].textContent = text;
            }
            const row = document.getElementById("row-" + index);
            if (row) row.querySelector(".progress").textContent = text;
          }
          function apply(message) {
            for (const step of message.steps) {
              const node = document.getElementById("step" + step.i);
              if (node) node.setAttribute("data-status", step.status);
              const row = document.getElementById("row-" + step.i);
              if (row) { const cell = row.querySelector(".status"); cell.replaceChildren(pill(step.status)); }
              if (step.progress) setProgress(step.i, step.progress);
            }
            const status = document.getElementById("execution-status");
            if (status) status.replaceChildren(pill(message.status));
            const reason = document.getElementById("execution-reason");
            if (reason && message.failureReason) reason.textContent = message.failureReason;
            document.body.dataset.executionStatus = message.status;
          }
          const graph = document.getElementById("graph");
          if (window.shoalProgress) for (const [index, text] of Object.entries(window.shoalProgress)) setProgress(index, text);
          let finished = !graph || graph.dataset.final === "true";
          if (graph) {
            graph.addEventListener("click", function (event) {
              const node = event.target.closest("g.node");
              const title = node && node.querySelector("title");
              if (title) location.search = "?step=" + encodeURIComponent(title.textContent);
            });
            if (!finished) {
              const source = new EventSource(graph.dataset.events);
              source.onmessage = function (event) {
                const message = JSON.parse(event.data);
                apply(message);
                if (message.status !== "Executing" && message.status !== "Stopping") {
                  finished = true;
                  source.close();
                  const stop = document.getElementById("stop");
                  if (stop) stop.closest("form").remove();
                }
              };
            }
          }
          const log = document.getElementById("log");
          if (log) {
            let url = log.dataset.log, offset = 0, running = log.dataset.running === "true", generation = 0;
            async function more(mine) {
              if (mine !== generation) return;
              let text = "";
              try {
                const response = await fetch(url + "&offset=" + offset);
                if (!response.ok || mine !== generation) return;
                text = await response.text();
                offset = parseInt(response.headers.get("X-Log-Offset") || String(offset), 10);
              } catch (error) { return; }
              if (text.length) { log.textContent += text; log.scrollTop = log.scrollHeight; }
              if (text.length) setTimeout(function () { more(mine); }, 0);
              else if (running && !finished) setTimeout(function () { more(mine); }, 500);
            }
            document.querySelectorAll("a[data-log]").forEach(function (link) {
              link.addEventListener("click", function () {
                url = link.dataset.log; offset = 0; running = link.dataset.running === "true"; log.textContent = "";
                generation += 1; more(generation);
              });
            });
            more(generation);
          }
        })();
        """#
}
