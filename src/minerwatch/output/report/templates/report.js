// The report's tables: rows come from the JSON block in the page, are rendered a page at a time with
// textContent only (nothing from a capture is ever parsed as HTML), sort by a column and filter by text.
// A number that links to events filters the event table to those ids ("id:1,2,3") and scrolls to it.
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const PAGE = 25;
  const tables = {};

  const plain = (v) => (v === null || v === undefined ? "" : Array.isArray(v) ? v.map(plain).join(", ")
    : typeof v === "object" ? plain(v.t) : String(v));
  const key = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v.t : v);

  function cell(v, numeric) {
    const td = document.createElement("td");
    if (numeric) td.className = "num";
    if (v && typeof v === "object" && !Array.isArray(v) && v.ev && v.ev.length) {
      const a = document.createElement("a");
      a.href = "#events";
      a.dataset.ev = v.ev.join(",");
      a.title = "events " + v.ev.join(", ");
      a.textContent = plain(v.t);
      td.appendChild(a);
    } else {
      td.textContent = plain(v);
    }
    return td;
  }

  function compare(a, b) {
    const x = key(a), y = key(b);
    if (typeof x === "number" && typeof y === "number") return x - y;
    return plain(x).localeCompare(plain(y), undefined, { numeric: true });
  }

  class Table {
    constructor(holder, spec) {
      this.spec = spec;
      this.rows = spec.rows;
      this.view = this.rows;
      this.page = 0;
      this.sortColumn = -1;
      this.descending = false;
      this.numeric = spec.columns.map((_, i) => this.rows.some((r) => typeof key(r[i]) === "number")
        && this.rows.every((r) => r[i] === null || typeof key(r[i]) === "number"));
      const tools = document.createElement("div");
      tools.className = "tools";
      this.filter = document.createElement("input");
      this.filter.type = "search";
      this.filter.placeholder = "filter (text, or id:1,2,3)";
      this.filter.setAttribute("aria-label", "filter " + (spec.title || "table"));
      this.filter.addEventListener("input", () => this.apply());
      this.status = document.createElement("span");
      this.status.className = "muted";
      this.pager = document.createElement("span");
      this.pager.className = "pager";
      tools.append(this.filter, this.pager, this.status);
      const table = document.createElement("table");
      const head = table.createTHead().insertRow();
      spec.columns.forEach((name, i) => {
        const th = document.createElement("th");
        const button = document.createElement("button");
        button.textContent = name;
        button.addEventListener("click", () => this.sort(i, th));
        th.appendChild(button);
        head.appendChild(th);
      });
      this.body = table.createTBody();
      holder.replaceChildren(tools, table);
      this.apply();
    }

    sort(column, th) {
      this.descending = this.sortColumn === column ? !this.descending : false;
      this.sortColumn = column;
      for (const other of th.parentNode.children) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", this.descending ? "descending" : "ascending");
      const sign = this.descending ? -1 : 1;
      this.rows = [...this.rows].sort((a, b) => sign * compare(a[column], b[column]));
      this.apply();
    }

    apply() {
      const query = this.filter.value.trim().toLowerCase();
      if (query.startsWith("id:")) {
        const wanted = new Set(query.slice(3).split(",").map(Number));
        this.view = this.rows.filter((r) => wanted.has(key(r[0])));
      } else if (query) {
        this.view = this.rows.filter((r) => r.some((v) => plain(v).toLowerCase().includes(query)));
      } else {
        this.view = this.rows;
      }
      this.page = 0;
      this.render();
    }

    render() {
      const pages = Math.max(1, Math.ceil(this.view.length / PAGE));
      this.page = Math.min(this.page, pages - 1);
      const start = this.page * PAGE;
      const fragment = document.createDocumentFragment();
      for (const row of this.view.slice(start, start + PAGE)) {
        const tr = document.createElement("tr");
        row.forEach((v, i) => tr.appendChild(cell(v, this.numeric[i])));
        fragment.appendChild(tr);
      }
      if (!this.view.length) {
        const tr = document.createElement("tr");
        const td = cell("nothing to show", false);
        td.colSpan = this.spec.columns.length;
        td.className = "empty";
        tr.appendChild(td);
        fragment.appendChild(tr);
      }
      this.body.replaceChildren(fragment);
      const omitted = this.spec.omitted ? ` (${this.spec.omitted.toLocaleString()} more not kept)` : "";
      this.status.textContent = `${this.view.length.toLocaleString()} of ${this.rows.length.toLocaleString()} rows${omitted}`;
      this.pager.replaceChildren();
      if (pages > 1) {
        const step = (label, page) => {
          const button = document.createElement("button");
          button.textContent = label;
          button.disabled = page < 0 || page >= pages || page === this.page;
          button.addEventListener("click", () => { this.page = page; this.render(); });
          this.pager.appendChild(button);
        };
        step("«", 0);
        step("‹", this.page - 1);
        this.pager.append(` page ${this.page + 1} of ${pages} `);
        step("›", this.page + 1);
        step("»", pages - 1);
      }
    }
  }

  // A table is built when it comes near the screen (a report may hold hundreds), and all are before printing.
  const build = (holder) => {
    const name = holder.dataset.table;
    if (!tables[name] && data.tables[name]) tables[name] = new Table(holder, data.tables[name]);
    return tables[name];
  };
  const holders = [...document.querySelectorAll("[data-table]")];
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) {
        build(entry.target);
        observer.unobserve(entry.target);
      }
    }
  }, { rootMargin: "600px" });
  holders.forEach((holder) => observer.observe(holder));
  window.addEventListener("beforeprint", () => holders.forEach(build));

  document.addEventListener("click", (e) => {
    const link = e.target.closest("a[data-ev]");
    const events = build(document.querySelector('[data-table="events"]'));
    if (!link || !events) return;
    e.preventDefault();
    events.filter.value = "id:" + link.dataset.ev;
    events.apply();
    document.getElementById("events").scrollIntoView();
  });
})();
