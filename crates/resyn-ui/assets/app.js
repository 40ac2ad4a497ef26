// resyn gallery: progressive enhancement only. Every page works without
// this script; with it the environment filter applies as you type, the
// answer box shows verdicts in place, and a running run refreshes itself.
// Text from the server is only ever set with textContent, never as HTML.
"use strict";

(function () {
  // Environment list: the same rules as the server's filter.
  function setupFilter() {
    const form = document.getElementById("env-filter");
    const table = document.getElementById("envs");
    if (!form || !table) return;
    const rows = Array.from(table.tBodies[0].rows);
    const shown = document.getElementById("shown");
    const field = (name) => form.elements.namedItem(name);
    // A static export has no server to submit to: read the query here.
    const params = new URLSearchParams(window.location.search);
    for (const name of ["q", "source", "category", "status"]) {
      if (params.has(name) && field(name)) field(name).value = params.get(name);
    }
    function apply() {
      const q = field("q").value.trim().toLowerCase();
      const want = {};
      for (const name of ["source", "category", "status"]) want[name] = field(name).value;
      let n = 0;
      for (const row of rows) {
        const ok =
          (!q || row.dataset.text.includes(q)) &&
          (!want.source || row.dataset.source === want.source) &&
          (!want.category || row.dataset.category === want.category) &&
          (!want.status || row.dataset.status === want.status);
        row.hidden = !ok;
        if (ok) n += 1;
      }
      shown.textContent = "Showing " + n + " of " + rows.length + ".";
    }
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      apply();
      const p = new URLSearchParams(new FormData(form));
      for (const [k, v] of Array.from(p.entries())) if (!v) p.delete(k);
      const qs = p.toString();
      history.replaceState(null, "", qs ? "?" + qs : window.location.pathname);
    });
    apply();
  }

  // The answer box: POST the form, show the verdict in its <output>.
  function setupTry() {
    for (const form of document.querySelectorAll("form.try")) {
      const out = form.querySelector("output");
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const button = form.querySelector("button[type=submit]");
        button.disabled = true;
        out.textContent = "Verifying…";
        try {
          const resp = await fetch(form.action, {
            method: "POST",
            headers: { Accept: "application/json" },
            body: new URLSearchParams(new FormData(form)),
          });
          const body = await resp.json();
          showVerdict(out, resp.ok ? body : null, resp.ok ? null : body.error);
        } catch (err) {
          showVerdict(out, null, { title: "Request failed", message: String(err) });
        } finally {
          button.disabled = false;
        }
      });
    }
    for (const button of document.querySelectorAll("button[data-fill]")) {
      button.hidden = false;
      button.addEventListener("click", () => {
        const from = document.getElementById(button.dataset.fill);
        const to = document.getElementById(button.dataset.target);
        const wrap = document.getElementById(button.dataset.wrap);
        // The reference is a whole response: do not wrap it again.
        if (wrap) wrap.checked = false;
        to.value = from.textContent;
        to.focus();
      });
    }
  }

  function showVerdict(out, verdict, error) {
    out.replaceChildren();
    const p = document.createElement("p");
    const badge = document.createElement("span");
    if (error) {
      badge.className = "badge bad";
      badge.textContent = error.title || "Error";
      p.append(badge, " ", error.message || "");
    } else {
      badge.className = "badge " + (verdict.correct ? "good" : "bad");
      badge.textContent = verdict.correct ? "correct" : "not correct";
      p.append(badge, " reward " + verdict.reward + " · reason " + verdict.reason);
      if (verdict.detail) p.append(" · " + verdict.detail);
    }
    out.append(p);
  }

  // The children of an element of another document, moved into this one.
  // (Copied out first: adopting removes them from the live child list.)
  function adopt(el) {
    return [...el.childNodes].map((n) => document.adoptNode(n));
  }

  // A running run: refresh the #live region in place, pausable.
  function setupLive() {
    const live = document.getElementById("live");
    const toggle = document.getElementById("autorefresh");
    if (!live || !live.dataset.refresh || !toggle) return;
    toggle.hidden = false;
    document.querySelector("label[for=autorefresh]").hidden = false;
    const every = Number(live.dataset.refresh) * 1000;
    let timer = null;
    async function refresh() {
      try {
        const resp = await fetch(window.location.href, { headers: { Accept: "text/html" } });
        if (!resp.ok) return;
        const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
        const fresh = doc.getElementById("live");
        if (!fresh) return;
        // Keep open <details> open across refreshes.
        const open = Array.from(live.querySelectorAll("details[open] > summary"), (s) => s.textContent);
        live.replaceChildren(...adopt(fresh));
        for (const s of live.querySelectorAll("details > summary")) {
          if (open.includes(s.textContent)) s.parentElement.open = true;
        }
        if (!fresh.dataset.refresh) {
          // The run ended: stop, and say so.
          stop();
          toggle.checked = false;
          toggle.disabled = true;
          toggle.hidden = true;
          document.querySelector("label[for=autorefresh]").textContent =
            "The run is no longer running: refreshing stopped.";
          const h1 = doc.querySelector("h1");
          if (h1) document.querySelector("h1").replaceChildren(...adopt(h1));
        }
      } catch (_) {
        // A failed refresh is retried at the next tick.
      }
    }
    function start() { if (!timer) timer = setInterval(refresh, every); }
    function stop() { clearInterval(timer); timer = null; }
    toggle.addEventListener("change", () => (toggle.checked ? start() : stop()));
    if (toggle.checked) start();
  }

  function init() {
    setupFilter();
    setupTry();
    setupLive();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
