// Staff pages: uploads (small files as multipart, large ones in resumable chunks) with a
// per-file status row that follows the capture until it is processed; live capture state.
(function () {
  "use strict";
  var CHUNK = 8 * 1024 * 1024;
  var TOKEN = (document.querySelector("meta[name='csrf-token']") || {}).content || "";
  var CSRF = { "X-CSRF-Token": TOKEN }; // every state-changing call carries the session's token
  function withCsrf(headers) { return Object.assign({}, headers || {}, CSRF); }
  var META = ["kind", "title", "site_code", "document_code", "unit_code", "unit_era", "sheet", "parcel_number"];

  function row(table, name) {
    var tr = document.createElement("tr");
    ["", "", ""].forEach(function () { tr.appendChild(document.createElement("td")); });
    tr.cells[0].textContent = name;
    table.tBodies[0].appendChild(tr);
    table.hidden = false;
    return {
      set: function (text, state) { tr.cells[1].textContent = text; tr.className = state ? "state-" + state : ""; },
      link: function (id) {
        var a = document.createElement("a");
        a.href = "/staff/captures/" + id;
        a.textContent = id.slice(0, 8);
        tr.cells[2].textContent = "";
        tr.cells[2].appendChild(a);
      },
    };
  }

  function json(r) {
    return r.json().then(function (body) {
      if (!r.ok) throw Object.assign(new Error((body.detail && (body.detail.message || body.detail)) || r.status), { body: body, status: r.status });
      return body;
    });
  }

  function sendChunks(upload, file, status) {
    function from(offset) {
      if (offset >= file.size) return Promise.resolve(offset);
      var end = Math.min(file.size, offset + CHUNK);
      return fetch("/api/uploads/" + upload.id + "?offset=" + offset, { method: "PUT", headers: withCsrf(), body: file.slice(offset, end) })
        .then(json)
        .then(function (info) { status.set(Math.round((100 * info.offset) / file.size) + " %", "pending"); return from(info.offset); })
        .catch(function (e) {
          if (e.status === 409) return from(e.body.detail.expected); // resume where the server is
          return new Promise(function (ok) { setTimeout(ok, 2000); }).then(function () {
            return fetch("/api/uploads/" + upload.id).then(json).then(function (info) { return from(info.offset); });
          });
        });
    }
    return from(0);
  }

  function chunked(file, meta, status) {
    return fetch("/api/uploads", {
      method: "POST", headers: withCsrf({ "Content-Type": "application/json" }),
      body: JSON.stringify({ name: file.name, size: file.size, meta: meta }),
    }).then(json).then(function (upload) {
      return sendChunks(upload, file, status).then(function () {
        return fetch("/api/uploads/" + upload.id + "/complete", { method: "POST", headers: withCsrf() }).then(json);
      });
    });
  }

  function whole(file, form, status) {
    var data = new FormData();
    META.forEach(function (k) { var v = form.elements[k] && form.elements[k].value; if (v) data.append(k, v); });
    data.append("file", file, file.name);
    status.set("0 %", "pending");
    return fetch("/api/captures", { method: "POST", headers: withCsrf(), body: data }).then(json).then(function (r) { return r[0]; });
  }

  function follow(id, status) {
    fetch("/api/captures/" + id).then(json).then(function (c) {
      status.set(c.state, c.state);
      if (c.state === "pending") setTimeout(function () { follow(id, status); }, 1000);
    });
  }

  function onSubmit(ev) {
    ev.preventDefault();
    var form = ev.target, table = document.getElementById("upload-status");
    var meta = {};
    META.forEach(function (k) { var v = form.elements[k] && form.elements[k].value; if (v) meta[k] = v; });
    Array.prototype.forEach.call(form.elements.file.files, function (file) {
      var status = row(table, file.name);
      var sent = file.size > CHUNK ? chunked(file, meta, status) : whole(file, form, status);
      sent.then(function (result) {
        if (result.status === "rejected") { status.set("rejected: " + result.error, "failed"); return; }
        status.set(result.status, "pending");
        status.link(result.capture_id);
        follow(result.capture_id, status);
      }).catch(function (e) { status.set("error: " + e.message, "failed"); });
    });
  }

  // The capture page: poll the progress route while the capture is pending, redraw the runs,
  // stages and failures, and reload once it settles (its pages and text are then complete).
  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  function drawProgress(box, p) {
    var runs = box.querySelector("ul.runs"), stages = box.querySelector("ul.stages");
    var failures = box.querySelector(".failures");
    runs.textContent = "";
    p.text_runs.forEach(function (r) {
      var li = text("li", r.run + (r.lang ? " (" + r.lang + ")" : "") + ": ");
      li.dataset.run = r.run;
      li.appendChild(text("span", String(r.done), "read"));
      li.appendChild(document.createTextNode(" / " + r.pages + (r.failed ? ", " : "")));
      if (r.failed) li.appendChild(text("span", r.failed + " ✗", "error"));
      runs.appendChild(li);
    });
    stages.textContent = "";
    p.stages.forEach(function (s) {
      var li = text("li", s.stage + ": " + s.status, "stage-" + s.status);
      li.dataset.stage = s.stage;
      stages.appendChild(li);
    });
    var list = failures.querySelector("ul");
    list.textContent = "";
    p.failed.forEach(function (f) { list.appendChild(text("li", f.stage + ": " + f.error_class + ": " + f.message)); });
    failures.hidden = !p.retryable;
    var model = box.querySelector(".model-progress");
    if (model) {
      model.hidden = !p.model;
      if (p.model) {
        var bar = model.querySelector("progress");
        if (p.model.total) { bar.max = p.model.total; bar.value = p.model.done || 0; } else bar.removeAttribute("value");
        model.querySelector(".text").textContent = p.model.text;
      }
    }
    document.getElementById("state").textContent = p.state;
  }

  function pollProgress(box) {
    fetch("/api/captures/" + box.dataset.id + "/progress", { credentials: "same-origin" }).then(json).then(function (p) {
      var was = box.dataset.state;
      box.dataset.state = p.state;
      drawProgress(box, p);
      if (p.state === "pending") setTimeout(function () { pollProgress(box); }, 1500);
      else if (was === "pending") location.reload();
    }).catch(function () { setTimeout(function () { pollProgress(box); }, 5000); });
  }

  function onRetry(ev) {
    ev.preventDefault();
    var form = ev.target, box = document.getElementById("progress");
    fetch(form.dataset.api, { method: "POST", credentials: "same-origin", headers: withCsrf() }).then(json).then(function () {
      box.dataset.state = "pending";
      form.closest(".failures").hidden = true;
      pollProgress(box);
    }).catch(function (e) { alert(e.message); });
  }

  function onCorrect(ev) {
    ev.preventDefault();
    var form = ev.target, values = {}, n = 0;
    Array.prototype.forEach.call(form.querySelectorAll("input[name^='field.']"), function (input) {
      if (input.value === input.dataset.value) return;
      var v = input.value.trim();
      if (input.dataset.number === "1" && v !== "") {
        var x = Number(v.replace(/\s/g, "").replace(",", "."));
        if (!isNaN(x)) v = x;
      }
      values[input.name.slice(6)] = v;
      n += 1;
    });
    var status = form.querySelector(".status");
    if (!n) { status.textContent = "—"; return; }
    fetch(form.dataset.api, {
      method: "POST", credentials: "same-origin", headers: withCsrf({ "Content-Type": "application/json" }),
      body: JSON.stringify({ values: values, reason: form.elements.reason.value }),
    }).then(json).then(function () { location.reload(); })
      .catch(function (e) { status.textContent = e.message; status.className = "status error"; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("upload");
    if (form) form.addEventListener("submit", onSubmit);
    var box = document.getElementById("progress");
    if (box && box.dataset.state === "pending") pollProgress(box);
    var retry = document.getElementById("retry");
    if (retry) retry.addEventListener("submit", onRetry);
    var fields = document.getElementById("correct-fields");
    if (fields) fields.addEventListener("submit", onCorrect);
  });
})();
