// The digitisation dashboard: every chart is drawn from GET /api/staff/dashboard.
"use strict";
(function () {
  const charts = {};
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const form = document.getElementById("dash-filter");
  const status = document.getElementById("dash-status");

  function draw(id, type, labels, datasets, options) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart(document.getElementById(id), {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ animation: false, responsive: true }, options || {}),
    });
  }

  function unitLabel(e) {
    const name = e.unit_name || e.unit || "(unknown)";
    return e.unit && e.unit.startsWith("pre2025:") ? name + " (before 2025)" : name;
  }

  // the other era's names (before or after the 2025 reorganisation) go in the tooltip
  function eraNotes(entries) {
    return { plugins: { tooltip: { callbacks: { afterTitle: (items) => {
      const e = entries[items[0].dataIndex];
      return e && e.other_era_names && e.other_era_names.length ? "also: " + e.other_era_names.join(", ") : "";
    } } } } };
  }

  function render(d) {
    const s = d.series;
    draw("chart-series", "bar", s.map((p) => p.period), [
      { label: "pages", data: s.map((p) => p.pages) },
      { label: "captures", data: s.map((p) => p.captures) },
    ]);
    const c = d.certificates;
    draw("chart-certificates", "bar", c.map(unitLabel), [
      { label: "entered", data: c.map((e) => e.entered) },
      { label: "reviewed", data: c.map((e) => e.reviewed) },
      { label: "linked to parcels", data: c.map((e) => e.linked) },
      { label: "target", data: c.map((e) => e.target) },
    ], Object.assign({ indexAxis: "y" }, eraNotes(c)));
    draw("chart-collections", "bar", d.by_collection.map((e) => e.collection), [
      { label: "captures", data: d.by_collection.map((e) => e.captures) },
    ]);
    draw("chart-units", "bar", d.by_unit.map(unitLabel), [
      { label: "captures", data: d.by_unit.map((e) => e.captures) },
    ], Object.assign({ indexAxis: "y" }, eraNotes(d.by_unit)));
    draw("chart-backlog", "bar", d.backlog.map((e) => e.age), [
      { label: "pending captures", data: d.backlog.map((e) => e.captures) },
    ]);
    draw("chart-confidence", "bar", d.ocr_confidence.map((e) => e.label), [
      { label: "pages", data: d.ocr_confidence.map((e) => e.count) },
    ]);
    draw("chart-failures", "bar", d.failures.map((e) => e.label), [
      { label: "failures", data: d.failures.map((e) => e.count) },
    ], { indexAxis: "y" });
    document.getElementById("review-workload").textContent =
      d.review.certificates_to_review + " certificates to review, " +
      d.review.low_confidence_pages + " pages read with confidence under 70";
    const problems = document.getElementById("target-problems");
    problems.replaceChildren(...d.target_problems.map((p) => Object.assign(document.createElement("li"), { textContent: p })));
    const empty = !s.length && !d.by_unit.length;
    status.textContent = (d.unit ? unitLabel(d.unit) + ": " : "") + d.range.since + " – " + d.range.until +
      (d.range.monthly ? " (by month)" : "") + (empty ? " — no data in this range" : "");
    document.body.dataset.dashboard = "drawn";
  }

  async function load() {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) params.set(k, v);
    const r = await fetch("/api/staff/dashboard?" + params, { headers: { Accept: "application/json" } });
    if (!r.ok) { status.textContent = (await r.json()).detail; return; }
    render(await r.json());
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  document.getElementById("targets-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = e.target.targets.files[0];
    if (!file) return;
    const r = await fetch("/api/staff/dashboard/targets", {
      method: "POST", headers: { "X-CSRF-Token": csrf, "Content-Type": "text/csv" }, body: await file.text(),
    });
    const answer = await r.json();
    status.textContent = r.ok ? answer.applied + " targets applied" : answer.detail;
    load();
  });
  load();
})();
