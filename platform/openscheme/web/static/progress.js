/* Follows a long run: polls the job's JSON (data-job) and updates its <progress> and text.
   No inline code (the CSP forbids it); without JavaScript the page refreshes itself instead. */
(function () {
  "use strict";
  function show(box, status) {
    box.querySelectorAll("[data-job-state]").forEach(function (el) {
      el.hidden = el.getAttribute("data-job-state").split(" ").indexOf(status) < 0;
    });
  }
  function number(n) { return Number(n).toLocaleString(document.documentElement.lang || undefined); }
  function update(box, job) {
    var bar = box.querySelector("progress");
    if (bar) {
      if (job.total) { bar.max = job.total; bar.value = job.done; bar.textContent = (job.percent || 0) + "%"; }
      else if (job.status === "done") { bar.max = 1; bar.value = 1; }
    }
    var count = box.querySelector("[data-job-count]");
    if (count) { count.textContent = job.total ? number(job.done) + " / " + number(job.total) : (job.done ? number(job.done) : ""); }
    var summary = box.querySelector("[data-job-summary]");
    if (summary) { summary.textContent = job.summary || ""; }
    var message = box.querySelector("[data-job-message]");
    if (message) { message.textContent = job.message || ""; }
    var link = box.querySelector("[data-job-result]");
    if (link && job.result_url) { link.href = job.result_url; link.hidden = false; }
    box.setAttribute("data-status", job.status);
    show(box, job.status);
  }
  function follow(box) {
    var url = box.getAttribute("data-job");
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (job) {
          update(box, job);
          if (job.status === "queued" || job.status === "running") { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    var status = box.getAttribute("data-status");
    if (status === "queued" || status === "running") { poll(); }
  }
  document.querySelectorAll("[data-job]").forEach(follow);
})();
