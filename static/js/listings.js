// Catalog enhancements: HS finder, live ICS2 check, variant rows, gallery, import progress.
// Every page works without them (forms post normally; the HS finder has its own page).
(function () {
  "use strict";

  function debounce(fn, ms) {
    let timer;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  function setupHsFinder(root) {
    const input = root.querySelector("[data-hs-query]");
    const list = root.querySelector("[data-hs-results]");
    const target = document.querySelector("[data-hs-input]");
    if (!input || !list || !target) return;
    let seq = 0;
    const search = debounce(async () => {
      const q = input.value.trim();
      const mine = ++seq;
      if (q.length < 2) { list.replaceChildren(); return; }
      const url = new URL(root.dataset.url, window.location.href);
      url.searchParams.set("q", q);
      url.searchParams.set("format", "json");
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok || mine !== seq) return;
      const data = await response.json();
      list.replaceChildren(...data.results.slice(0, 10).map((match) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        const code = document.createElement("span");
        code.className = "code";
        code.textContent = match.dotted;
        const text = document.createElement("span");
        text.textContent = " " + match.description;
        const context = document.createElement("div");
        context.className = "muted small";
        context.textContent = match.heading + " " + match.heading_description + " · " + match.chapter_description;
        button.append(code, text, context);
        button.dataset.code = match.code;
        button.addEventListener("click", () => {
          target.value = match.code;
          target.dispatchEvent(new Event("change"));
          target.focus();
        });
        li.append(button);
        return li;
      }));
    }, 200);
    input.addEventListener("input", search);
    input.addEventListener("keydown", (event) => { if (event.key === "Enter") event.preventDefault(); });
  }

  function setupIcs2(feedback) {
    const input = document.querySelector("[data-ics2-input]");
    if (!input) return;
    let seq = 0;
    const check = debounce(async () => {
      const text = input.value.trim();
      const mine = ++seq;
      if (!text) { feedback.textContent = ""; feedback.className = "small ics2-feedback"; return; }
      const url = new URL(feedback.dataset.url, window.location.href);
      url.searchParams.set("text", text);
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok || mine !== seq) return;
      const data = await response.json();
      const messages = data.errors.length ? data.errors : data.warnings;
      feedback.className = "small ics2-feedback " + (data.errors.length ? "error" : data.warnings.length ? "warning" : "ok");
      feedback.textContent = messages.length ? messages.join(" ") : "✔ " + feedback.dataset.okText;
    }, 300);
    input.addEventListener("input", check);
    if (input.value) check();
  }

  function setupVariants(button) {
    const rows = document.querySelector("[data-variant-rows]");
    const template = document.querySelector("[data-variant-template]");
    const total = document.querySelector("input[name$='-TOTAL_FORMS']");
    if (!rows || !template || !total) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      const index = parseInt(total.value, 10);
      const html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      const first = rows.lastElementChild.querySelector("input");
      if (first) first.focus();
    });
  }

  function setupGallery() {
    const main = document.querySelector(".gallery-main img");
    document.querySelectorAll("[data-gallery-large]").forEach((link) => {
      link.addEventListener("click", (event) => {
        if (!main || !link.dataset.galleryLarge) return;
        event.preventDefault();
        main.src = link.dataset.galleryLarge;
        main.alt = link.dataset.galleryAlt || "";
        main.classList.remove("placeholder");
      });
    });
  }

  function setupImportProgress(box) {
    const bar = box.querySelector("[data-import-bar]");
    const text = box.querySelector("[data-import-text]");
    const status = box.querySelector("[data-import-status]");
    const poll = async () => {
      const response = await fetch(box.dataset.url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        if (data.finished) { window.location.reload(); return; }
        if (bar) bar.value = data.percent;
        if (status) status.textContent = data.status_label;
        if (text) text.textContent = data.processed + " / " + data.total;
      }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 800);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-hs-finder]").forEach(setupHsFinder);
    document.querySelectorAll("[data-ics2-feedback]").forEach(setupIcs2);
    document.querySelectorAll("[data-add-variant]").forEach(setupVariants);
    document.querySelectorAll("[data-import-progress]").forEach(setupImportProgress);
    setupGallery();
  });
})();
