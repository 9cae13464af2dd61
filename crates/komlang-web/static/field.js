// Komlang in the field (docs/offline.md). Keeps what the signed-in account needs on this
// device (localStorage, this site only), lets the user add a worker, change contact details
// and status, and record attendance without a connection; queues each change ("waiting to
// send") and sends the queue in order when the connection returns, each change with the
// version of the record it was made on. Each change then shows whether it was saved, refused
// (with the field problems) or in conflict (what changed meanwhile, field by field, with
// "apply mine on top" and "drop mine"). Plain ES2015 for old phones; no HTML is built from text.
(function () {
  "use strict";
  var root = document.getElementById("field");
  if (!root) return;
  var T = JSON.parse(document.getElementById("field-texts").textContent);
  var csrf = root.getAttribute("data-csrf");
  var user = root.getAttribute("data-user");
  var KEY = "komlang.field." + user;
  var state = load();
  var sending = false;

  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(KEY) || "null");
      if (s && s.queue) return s;
    } catch (e) { /* unreadable: start again */ }
    return { data: null, queue: [] };
  }
  function store() {
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* full: kept in memory */ }
  }
  function t(k) { return T[k] || k; }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "on") Object.keys(attrs.on).forEach(function (ev) { e.addEventListener(ev, attrs.on[ev]); });
      else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function newId() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function label(kind, code) {
    var list = (state.data && state.data.choices[kind]) || [];
    for (var i = 0; i < list.length; i++) if (list[i][0] === code) return list[i][1];
    return code;
  }
  function select(name, kind, value, withEmpty) {
    var s = el("select", { name: name, id: "fld-" + name });
    if (withEmpty) s.appendChild(el("option", { value: "", text: "—" }));
    ((state.data && state.data.choices[kind]) || []).forEach(function (c) {
      var o = el("option", { value: c[0], text: c[1] });
      if (c[0] === value) o.selected = true;
      s.appendChild(o);
    });
    return s;
  }
  function row(labelText, input) {
    var id = input.getAttribute("id") || ("fld-" + input.getAttribute("name") + "-" + newId());
    input.setAttribute("id", id);
    return el("div", { "class": "row" }, [el("label", { "for": id, text: labelText }), input]);
  }
  function values(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (e) {
      if (e.name) out[e.name] = e.value.trim();
    });
    return out;
  }

  // ---- the queue ----
  function queue(change) {
    change.id = newId();
    change.state = "waiting";
    state.queue.push(change);
    store();
    render();
    send();
  }
  function sameRecord(a, b) {
    return a.kind === b.kind && a.worker_id === b.worker_id && (a.event_id || null) === (b.event_id || null);
  }
  function applyLocally(change, body) {
    var d = state.data;
    if (!d) return;
    if (body.worker) {
      var w = body.worker, found = false;
      d.workers = d.workers.map(function (x) { if (x.id === w.id) { found = true; return w; } return x; });
      if (!found && change.kind === "add_worker") d.workers.unshift(w);
      if (d.me && d.me.id === w.id) d.me = w;
    }
    if (body.participant) {
      d.events.forEach(function (ev) {
        if (ev.id !== change.event_id) return;
        ev.participants = ev.participants.map(function (p) {
          return p.worker_id === body.participant.worker_id ? body.participant : p;
        });
      });
    }
  }
  function send() {
    if (sending || !navigator.onLine) { render(); return; }
    var next = null;
    for (var i = 0; i < state.queue.length; i++) if (state.queue[i].state === "waiting") { next = state.queue[i]; break; }
    if (!next) { render(); return; }
    sending = true;
    var payload = { id: next.id, kind: next.kind, worker_id: next.worker_id, event_id: next.event_id,
      version: next.version, fields: next.fields, base: next.base || {} };
    fetch("/field/changes", {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify(payload)
    }).then(function (res) {
      var type = res.headers.get("Content-Type") || "";
      if (res.type === "opaqueredirect" || type.indexOf("json") < 0) {
        // Signed out meanwhile (or the session ran out): the queue waits for a new sign-in.
        sending = false;
        setStatus(t("signin"), "signin");
        return null;
      }
      return res.json().then(function (body) {
        sending = false;
        var old = next.version;
        next.state = body.state;
        next.answer = body;
        if (body.state === "saved") {
          applyLocally(next, body);
          if (next.kind === "add_worker") renderData();
          var rec = body.worker || body.participant;
          // Later changes made on top of this one go on from its new version.
          if (rec) state.queue.forEach(function (c) {
            if (c !== next && c.state === "waiting" && sameRecord(c, next) && c.version === old) c.version = rec.version;
          });
        }
        store();
        send();
      });
    }).catch(function () {
      // No connection after all: the change waits.
      sending = false;
      render();
    });
  }

  // ---- the page ----
  function setStatus(text, kind) {
    var s = document.getElementById("field-status");
    s.textContent = text;
    s.setAttribute("data-state", kind);
  }
  function waitingCount() {
    return state.queue.filter(function (c) { return c.state === "waiting"; }).length;
  }
  function changeView(c) {
    var what = c.kind === "add_worker" ? t("new_worker") + ": " + (c.fields.name_latin || c.fields.name_km || "")
      : c.kind === "attendance" ? t("attendance") + ": " + (c.title || "")
      : c.kind === "self_assessment" ? t("self_assessment") + " · " + (c.fields.assessed_on || "")
      : (c.title || "") + ": " + Object.keys(c.fields).map(function (k) { return c.fields[k]; }).join(", ");
    var li = el("li", { "class": "change " + c.state, "data-state": c.state, "data-change": c.id }, [
      el("span", { "class": "tag", text: t(c.state) }), document.createTextNode(" " + what)
    ]);
    var a = c.answer || {};
    if (c.state === "refused") {
      var ul = el("ul", { "class": "field-error" });
      (a.errors || []).forEach(function (e) { ul.appendChild(el("li", { text: (e.field ? e.field + ": " : "") + e.message })); });
      li.appendChild(ul);
      li.appendChild(el("button", { type: "button", "class": "secondary", text: t("drop_mine"),
        on: { click: function () { drop(c); } } }));
    }
    if (c.state === "conflict") {
      var table = el("table", { "class": "conflict-fields" }, [el("thead", null, [el("tr", null, [
        el("th", { text: t("field") }), el("th", { text: t("base") }), el("th", { text: t("theirs") }), el("th", { text: t("yours") })
      ])])]);
      var body = el("tbody");
      (a.changed || []).forEach(function (r) {
        body.appendChild(el("tr", { "class": r.clash ? "clash" : "" }, [
          el("th", { text: r.label }), el("td", { text: r.base || "" }), el("td", { text: r.theirs || "" }), el("td", { text: r.yours || "" })
        ]));
      });
      table.appendChild(body);
      li.appendChild(table);
      li.appendChild(el("button", { type: "button", "class": "apply-mine", text: t("apply_mine"), on: { click: function () {
        var theirs = {};
        (a.changed || []).forEach(function (r) { theirs[r.field] = r.theirs || ""; });
        Object.keys(c.fields).forEach(function (k) { if (!(k in theirs)) theirs[k] = c.base ? c.base[k] : ""; });
        c.version = a.version;
        c.fields = a.merged || c.fields;
        c.base = theirs;
        c.state = "waiting";
        delete c.answer;
        store(); send();
      } } }));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("button", { type: "button", "class": "secondary drop-mine", text: t("drop_mine"), on: { click: function () {
        applyLocally(c, a);
        drop(c);
        renderData();
      } } }));
    }
    return li;
  }
  function drop(c) {
    state.queue = state.queue.filter(function (x) { return x !== c; });
    store(); render();
  }

  function workerForm(w) {
    var f = el("form", { "class": "record field-edit", "data-worker": String(w.id) }, [
      row(t("worker.phone"), el("input", { name: "phone", type: "tel", value: w.phone })),
      row(t("worker.email"), el("input", { name: "email", type: "email", value: w.email }))
    ]);
    var d = state.data;
    if (d.may.edit_worker) f.appendChild(row(t("worker.status"), select("status", "status", w.status)));
    f.appendChild(el("div", { "class": "actions" }, [el("button", { type: "submit", text: t("save_offline") })]));
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = values(f), fields = {}, base = {};
      Object.keys(v).forEach(function (k) {
        var was = w[k] || "";
        if (v[k] !== was) { fields[k] = v[k]; base[k] = was; }
      });
      if (!Object.keys(fields).length) return;
      Object.keys(fields).forEach(function (k) { w[k] = fields[k]; });
      queue({ kind: "update_worker", worker_id: w.id, version: w.version, fields: fields, base: base,
        title: w.name_km + " · " + w.name_latin });
    });
    return f;
  }

  function workerList(d) {
    var filter = el("input", { type: "search", id: "field-filter", placeholder: t("filter") });
    var list = el("ul", { id: "field-workers", "class": "plain" });
    function fill() {
      var q = filter.value.trim().toLowerCase();
      while (list.firstChild) list.removeChild(list.firstChild);
      d.workers.filter(function (w) {
        return !q || (w.name_km + " " + w.name_latin + " " + w.phone).toLowerCase().indexOf(q) >= 0;
      }).slice(0, 100).forEach(function (w) {
        var li = el("li", { "data-worker": String(w.id) }, [
          el("strong", { text: w.name_km }), document.createTextNode(" " + w.name_latin + " · " + w.workplace_code + " · " +
            label("status", w.status) + (w.phone ? " · " + w.phone : ""))
        ]);
        if (d.may.edit_worker) {
          li.appendChild(document.createTextNode(" "));
          li.appendChild(el("button", { type: "button", "class": "secondary edit-worker", text: t("edit"), on: { click: function () {
            if (!li.querySelector("form")) li.appendChild(workerForm(w));
          } } }));
        }
        list.appendChild(li);
      });
    }
    filter.addEventListener("input", fill);
    fill();
    return el("section", { id: "field-worker-list" }, [el("h2", { text: t("workers") }), filter, list,
      d.truncated ? el("p", { "class": "hint", text: t("truncated") }) : null]);
  }

  function addWorkerForm() {
    var f = el("form", { "class": "record", id: "field-add" }, [
      row(t("worker.name_km"), el("input", { name: "name_km", required: "required" })),
      row(t("worker.name_latin"), el("input", { name: "name_latin", required: "required" })),
      row(t("worker.sex"), select("sex", "sex", "", true)),
      row(t("worker.date_of_birth"), el("input", { name: "date_of_birth", type: "date" })),
      row(t("worker.phone"), el("input", { name: "phone", type: "tel" })),
      row(t("worker.cadre"), select("cadre", "cadre", "", true)),
      row(t("worker.role"), select("role", "role", "", true)),
      row(t("worker.sector"), select("sector", "sector", "government", false)),
      row(t("worker.workplace_code"), el("input", { name: "workplace_code", required: "required" })),
      row(t("worker.status"), select("status", "status", "active", false)),
      el("div", { "class": "actions" }, [el("button", { type: "submit", text: t("save_offline") })])
    ]);
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = values(f), fields = {};
      Object.keys(v).forEach(function (k) { if (v[k]) fields[k] = v[k]; });
      queue({ kind: "add_worker", fields: fields });
      f.reset();
    });
    return el("details", { id: "field-add-worker" }, [el("summary", { text: t("add_worker") }), f]);
  }

  function eventView(ev) {
    var list = el("ul", { "class": "plain" });
    ev.participants.forEach(function (p) {
      var f = el("form", { "class": "filters attendance", "data-worker": String(p.worker_id) }, [
        el("label", null, [document.createTextNode(t("days_attended")),
          el("input", { name: "days_attended", type: "number", min: "0", max: String(ev.days), value: p.days_attended })]),
        el("label", null, [document.createTextNode(t("result")), select("result", "result", p.result)]),
        el("button", { type: "submit", text: t("save_offline") })
      ]);
      f.addEventListener("submit", function (e) {
        e.preventDefault();
        var v = values(f), fields = {}, base = {};
        Object.keys(v).forEach(function (k) { if (v[k] !== (p[k] || "")) { fields[k] = v[k]; base[k] = p[k] || ""; } });
        if (!Object.keys(fields).length) return;
        Object.keys(fields).forEach(function (k) { p[k] = fields[k]; });
        queue({ kind: "attendance", event_id: ev.id, worker_id: p.worker_id, version: p.version, fields: fields, base: base,
          title: ev.title + " · " + p.name });
      });
      list.appendChild(el("li", null, [el("span", { text: p.name }), f]));
    });
    return el("article", { "class": "field-event", "data-event": String(ev.id) }, [
      el("h3", { text: ev.title }), el("p", { "class": "muted", text: ev.starts_on + " – " + ev.ends_on + " · " + ev.place }), list
    ]);
  }

  function selfAssessmentForm(d) {
    var sa = d.self_assessment;
    var day = new Date().toISOString().slice(0, 10);
    var f = el("form", { "class": "record", id: "field-self" }, [
      row(t("assessed_on"), el("input", { name: "assessed_on", type: "date", value: day })),
      row(t("notes"), el("textarea", { name: "notes", rows: "2" }))
    ]);
    sa.competencies.forEach(function (c) {
      var set = el("fieldset", { "class": "competency" }, [el("legend", { text: c.name })]);
      c.indicators.forEach(function (x) {
        set.appendChild(row(x.text, select("r." + x.code, "rating", "", true)));
      });
      f.appendChild(set);
    });
    f.appendChild(el("div", { "class": "actions" }, [el("button", { type: "submit", text: t("save_offline") })]));
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = values(f), fields = { framework_version: sa.framework_version };
      Object.keys(v).forEach(function (k) { if (v[k]) fields[k] = v[k]; });
      queue({ kind: "self_assessment", worker_id: d.me.id, fields: fields, title: t("self_assessment") });
      f.reset();
    });
    return el("details", { id: "field-self-assessment" }, [el("summary", { text: t("self_assessment") }), f]);
  }

  // The changes (and the status line) are drawn again whenever the queue moves; the records
  // only when new ones arrive, and never under the user's fingers: while a form of them has
  // entries not yet saved, drawing waits until it is saved.
  var changesBox = el("div", { id: "field-changes-box" });
  var dataBox = el("div", { id: "field-data" });
  root.appendChild(changesBox);
  root.appendChild(dataBox);
  var typing = false, stale = false;
  dataBox.addEventListener("input", function () { typing = true; });
  dataBox.addEventListener("submit", function () {
    typing = false;
    if (stale) setTimeout(renderData, 0);
  });

  function render() {
    var d = state.data;
    var n = waitingCount();
    var online = navigator.onLine;
    setStatus((online ? t("online") : t("offline")) + (d ? " · " + t("fetched") + " " + d.fetched_at.replace("T", " ").slice(0, 16) : "") +
      (n ? " · " + t("waiting_n").replace("%{n}", String(n)) : ""), online ? "online" : "offline");
    while (changesBox.firstChild) changesBox.removeChild(changesBox.firstChild);
    var changes = el("section", { id: "field-changes" }, [el("h2", { text: t("changes") })]);
    if (state.queue.length) {
      var ul = el("ul", { "class": "plain" });
      state.queue.forEach(function (c) { ul.appendChild(changeView(c)); });
      changes.appendChild(ul);
      var done = state.queue.filter(function (c) { return c.state === "saved"; });
      if (n) changes.appendChild(el("button", { type: "button", id: "field-send", text: t("send_now"), on: { click: send } }));
      if (done.length) changes.appendChild(el("button", { type: "button", "class": "secondary", id: "field-clear", text: t("clear_saved"), on: { click: function () {
        state.queue = state.queue.filter(function (c) { return c.state !== "saved"; });
        store(); render();
      } } }));
    } else {
      changes.appendChild(el("p", { "class": "muted", text: t("no_changes") }));
    }
    changesBox.appendChild(changes);
  }

  function renderData() {
    if (typing) { stale = true; return; }
    stale = false;
    var d = state.data;
    while (dataBox.firstChild) dataBox.removeChild(dataBox.firstChild);
    if (!d) return;
    if (d.me) dataBox.appendChild(el("section", { id: "field-me" }, [el("h2", { text: t("my_record") }),
      el("p", { text: d.me.name_km + " · " + d.me.name_latin }), workerForm(d.me)]));
    if (d.me && d.self_assessment) dataBox.appendChild(selfAssessmentForm(d));
    if (d.may.add_worker) dataBox.appendChild(addWorkerForm());
    if (d.workers.length) dataBox.appendChild(workerList(d));
    if (d.events.length) {
      var sec = el("section", { id: "field-training" }, [el("h2", { text: t("training") })]);
      d.events.forEach(function (ev) { sec.appendChild(eventView(ev)); });
      dataBox.appendChild(sec);
    }
  }

  function refresh() {
    if (!navigator.onLine) { render(); return; }
    setStatus(t("loading"), "loading");
    fetch("/field/data", { credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" } })
      .then(function (res) {
        var type = res.headers.get("Content-Type") || "";
        if (res.type === "opaqueredirect" || type.indexOf("json") < 0) { setStatus(t("signin"), "signin"); return null; }
        return res.json();
      })
      .then(function (d) {
        if (d) {
          state.data = d;
          store();
          renderData();
        }
        render();
        send();
      })
      .catch(function () { render(); });
  }

  window.addEventListener("online", function () { refresh(); });
  window.addEventListener("offline", function () { render(); });
  render();
  renderData();
  refresh();
})();
