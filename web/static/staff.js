// Staff pages: uploads (small files as multipart, large ones in resumable chunks) with a
// per-file status row that follows the capture until it is processed; live capture state.
(function () {
  "use strict";
  var CHUNK = 8 * 1024 * 1024;
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
      return fetch("/api/uploads/" + upload.id + "?offset=" + offset, { method: "PUT", body: file.slice(offset, end) })
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
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: file.name, size: file.size, meta: meta }),
    }).then(json).then(function (upload) {
      return sendChunks(upload, file, status).then(function () {
        return fetch("/api/uploads/" + upload.id + "/complete", { method: "POST" }).then(json);
      });
    });
  }

  function whole(file, form, status) {
    var data = new FormData();
    META.forEach(function (k) { var v = form.elements[k] && form.elements[k].value; if (v) data.append(k, v); });
    data.append("file", file, file.name);
    status.set("0 %", "pending");
    return fetch("/api/captures", { method: "POST", body: data }).then(json).then(function (r) { return r[0]; });
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

  function liveState(el) {
    fetch("/api/captures/" + el.dataset.id).then(json).then(function (c) {
      el.textContent = c.state;
      if (c.state === "pending") setTimeout(function () { liveState(el); }, 1000);
      else if (el.dataset.was === "pending") location.reload();
      el.dataset.was = c.state;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("upload");
    if (form) form.addEventListener("submit", onSubmit);
    var state = document.getElementById("state");
    if (state && state.textContent === "pending") { state.dataset.was = "pending"; liveState(state); }
  });
})();
