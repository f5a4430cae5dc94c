// The formula workbench: check the formula as it is typed (no inline code: CSP script-src 'self').
(function () {
  "use strict";
  var box = document.getElementById("formula");
  var status = document.getElementById("formula-status");
  var caret = document.getElementById("formula-caret");
  if (!box || !status) { return; }
  var url = box.getAttribute("data-check-url");
  var target = box.getAttribute("data-target");
  var tokenInput = document.querySelector("input[name=csrf_token]");
  var token = tokenInput ? tokenInput.value : "";
  var timer = null;
  var sequence = 0;

  function show(result, text) {
    status.classList.remove("ok", "bad");
    caret.textContent = "";
    if (result.ok) {
      status.classList.add("ok");
      status.textContent = status.getAttribute("data-ok").replace("{type}", result.result_type);
      status.removeAttribute("data-code");
      status.removeAttribute("data-col");
      return;
    }
    status.classList.add("bad");
    status.setAttribute("data-code", result.code);
    status.setAttribute("data-col", String(result.col));
    status.setAttribute("data-line", String(result.line));
    var where = status.getAttribute("data-where").replace("{line}", result.line).replace("{col}", result.col);
    status.textContent = result.code + " " + result.message + (result.hint ? " (" + result.hint + ")" : "") + " " + where;
    var line = text.split("\n")[result.line - 1] || "";
    caret.textContent = line + "\n" + new Array(Math.max(result.col, 1)).join(" ") + "^";
  }

  function check() {
    var text = box.value;
    var mine = ++sequence;
    var request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("Content-Type", "application/json");
    request.setRequestHeader("X-CSRFToken", token);
    request.onload = function () {
      if (mine !== sequence || request.status !== 200) { return; }
      show(JSON.parse(request.responseText), text);
    };
    request.send(JSON.stringify({target: target, formula: text}));
  }

  box.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(check, 200);
  });
  document.documentElement.setAttribute("data-workbench-ready", "1");
  check();
}());
