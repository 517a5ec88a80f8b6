/* The front desk's calendar (scheduling/templates/scheduling/day_board.html): EventCalendar's
 * resource time grid fed by /desk/calendar/events/, polled every 3 s; drag and drop through
 * /desk/calendar/move/ with the last move undoable and a taken time's alternatives offered in
 * place; a dialog per visit with its status moves; a keyboard slot cursor (arrows, Enter books).
 * Text from the server is set with textContent only. */
(function () {
  "use strict";

  var POLL_MS = 3000;
  var SLOT_MINUTES = 15;
  var SLOT_HEIGHT = 26;
  var VIEWS = { day: "resourceTimeGridDay", week: "timeGridWeek", month: "dayGridMonth" };

  var el = document.getElementById("calendar");
  if (!el || !window.EventCalendar) return;
  var cfg = el.dataset;
  var csrf = document.querySelector("#calendar-csrf input[name=csrfmiddlewaretoken]").value;
  var initialNode = document.getElementById("calendar-initial");
  var initial = initialNode ? JSON.parse(initialNode.textContent) : null;
  var weekProvider = document.getElementById("week-provider");
  var $ = function (id) { return document.getElementById(id); };

  var state = {
    view: cfg.view in VIEWS ? cfg.view : "day",
    by: cfg.by === "room" ? "room" : "provider",
    dragging: false,
    lastMove: null,
    resourcesKey: initial ? JSON.stringify(initial.resources) : "",
    slotsKey: initial && initial.slots ? initial.slots.min + initial.slots.max : "",
    initialUsed: false,
    cursor: null, // {column: index, minutes: from midnight}
    resources: initial ? initial.resources : [],
    slots: initial && initial.slots ? initial.slots : { min: "07:00", max: "19:00" },
    openEvent: null,
  };
  var ec = null;

  // --- Small helpers ---------------------------------------------------------------------
  function pad(n) { return String(n).padStart(2, "0"); }
  function isoDate(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function isoLocal(d) { return isoDate(d) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":00"; }
  function parseDate(text) { var p = text.split("-"); return new Date(+p[0], +p[1] - 1, +p[2]); }
  function hm(text) { var p = text.split(":"); return (+p[0]) * 60 + (+p[1]); }
  function clock(minutes) {
    var h = Math.floor(minutes / 60), m = minutes % 60;
    return ((h + 11) % 12 + 1) + ":" + pad(m) + (h < 12 ? " AM" : " PM");
  }
  function node(tag, className, text) {
    var n = document.createElement(tag);
    if (className) n.className = className;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  function byParam() {
    if (state.view === "month") return "day";
    return state.view === "week" ? "provider" : state.by;
  }
  function inkFor(hex) {
    var r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
    return (0.299 * r + 0.587 * g + 0.114 * b) > 150 ? "#1b2430" : "#ffffff";
  }

  // --- The window ------------------------------------------------------------------------
  function windowUrl(start, end) {
    var q = new URLSearchParams({ location: cfg.location, start: isoDate(start), end: isoDate(end), by: byParam() });
    if (state.view === "week" && weekProvider && weekProvider.value) q.set("provider", weekProvider.value);
    return cfg.eventsUrl + "?" + q.toString();
  }

  function apply(data) {
    state.resources = data.resources;
    var key = JSON.stringify(data.resources);
    if (ec && state.view === "day" && key !== state.resourcesKey) { state.resourcesKey = key; ec.setOption("resources", data.resources); }
    if (data.slots) {
      state.slots = data.slots;
      var slotsKey = data.slots.min + data.slots.max;
      if (ec && slotsKey !== state.slotsKey) {
        state.slotsKey = slotsKey;
        ec.setOption("slotMinTime", data.slots.min);
        ec.setOption("slotMaxTime", data.slots.max);
      }
    }
    // The location's clock (the server's answer), not the desk computer's.
    var at = data.now ? clock(hm(data.now.slice(11, 16))) + " " + data.zone_name : new Date().toLocaleTimeString();
    $("live-status").textContent = "Updated " + at + " · refreshes every 3 seconds";
  }

  function loadEvents(info) {
    if (initial && !state.initialUsed && state.view === "day" && initial.by === byParam() && initial.start === isoDate(info.start)) {
      state.initialUsed = true;
      apply(initial);
      return Promise.resolve(initial.events);
    }
    // X-Clinic-Poll marks the refresh as the page's, not the person's (for an idle sign-out).
    return fetch(windowUrl(info.start, info.end), { headers: { Accept: "application/json", "X-Clinic-Poll": "1" }, credentials: "same-origin" })
      .then(function (response) {
        // Signed out while idle: reloading shows the sign-in page (what was typed is gone anyway).
        if (response.status === 401) { window.location.reload(); return { events: [] }; }
        if (!response.ok) throw new Error("The calendar could not be loaded (" + response.status + ").");
        return response.json();
      })
      .then(function (data) { apply(data); return data.events; })
      .catch(function (error) { $("live-status").textContent = error.message; return []; });
  }

  // --- Event cards -----------------------------------------------------------------------
  function cardContent(info) {
    var event = info.event, p = event.extendedProps;
    if (event.display === "background") {
      return p.kind === "hours" ? "" : { domNodes: [node("span", "bg-label", event.title)] };
    }
    if (p.kind === "load") return event.title;
    var nodes = [];
    var head = node("span", "card-head");
    head.appendChild(node("span", "card-time", info.timeText));
    var name = node("a", "card-patient", p.patient);
    name.href = p.chart_url;
    head.appendChild(name);
    nodes.push(head);
    var line = node("span", "card-line");
    var status = node("button", "card-status", p.status_label);
    status.type = "button";
    status.setAttribute("aria-label", p.status_label + ": " + p.patient + " at " + clock(event.start.getHours() * 60 + event.start.getMinutes()));
    status.addEventListener("click", function (e) { e.stopPropagation(); openVisit(event); });
    line.appendChild(status);
    line.appendChild(node("span", "card-kind", p.visit_type + (state.by === "room" || state.view !== "day" ? " · " + p.provider : (p.room ? " · " + p.room : ""))));
    nodes.push(line);
    p.flags.forEach(function (flag) {  // on the first line: a 15-minute card shows only that
      var chip = node("span", "chip flag-" + flag.code, flag.short);
      chip.title = flag.label;
      head.appendChild(chip);
    });
    if (p.waits) nodes.push(node("span", "card-waits", waitsText(p.waits)));
    return { domNodes: nodes };
  }

  function waitsText(w) {
    var parts = ["Arrived " + w.arrived];
    if (w.waited !== null) parts.push("waited " + w.waited + " min");
    if (w.in_room) parts.push("in room " + w.in_room);
    if (w.in_room_minutes !== null) parts.push(w.in_room_minutes + " min in room");
    if (w.done) parts.push("done " + w.done);
    return parts.join(" · ");
  }

  // EventCalendar marks its grid up as an ARIA table with buttons for events, which does not
  // fit what it holds (toolbars, links inside events); the page's own keyboard model and the
  // card's buttons and links stand instead (docs/decisions/0023-desk-calendar.md).
  var ROLES = "[role=table],[role=row],[role=rowgroup],[role=columnheader],[role=cell],[role=button],[aria-colindex]";
  function stripRoles() {
    el.querySelectorAll(ROLES).forEach(function (n) {
      if (n.tagName === "BUTTON") return;
      n.removeAttribute("role");
      n.removeAttribute("aria-colindex");
      if (n.classList.contains("ec-event")) n.removeAttribute("tabindex");
    });
  }
  new MutationObserver(stripRoles).observe(el, { subtree: true, childList: true, attributes: true, attributeFilter: ["role", "aria-colindex"] });

  function cardMounted(info) {
    var p = info.event.extendedProps;
    if (p.kind !== "visit") return;
    info.el.style.setProperty("--type-color", p.color);
    info.el.style.setProperty("--type-ink", inkFor(p.color));
    info.el.dataset.appointment = info.event.id;
    info.el.dataset.status = p.status;
  }

  // --- The visit dialog ------------------------------------------------------------------
  var dialog = $("visit-dialog");

  function openVisit(event) {
    var p = event.extendedProps;
    state.openEvent = event;
    var chart = $("visit-chart");
    chart.textContent = p.patient;
    chart.href = p.chart_url;
    $("visit-when").textContent = clock(event.start.getHours() * 60 + event.start.getMinutes()) + "–" +
      clock(event.end.getHours() * 60 + event.end.getMinutes()) + ", " + event.start.toDateString();
    $("visit-what").textContent = p.visit_type + " with " + p.provider + (p.room ? " in " + p.room : "") + " · MRN " + p.mrn;
    $("visit-status").textContent = p.status_label;
    var flags = $("visit-flags");
    flags.replaceChildren();
    p.flags.forEach(function (flag) { flags.appendChild(node("li", "flag-line flag-" + flag.code, flag.label)); });
    $("visit-waits").textContent = p.waits ? waitsText(p.waits) : "";
    var message = $("visit-message");
    message.hidden = true;
    var moves = $("visit-moves");
    moves.replaceChildren();
    p.moves.forEach(function (move) {
      if (move.to === "cancelled") return;
      var button = node("button", "small" + (move.to === "no_show" ? " danger" : ""), move.label);
      button.type = "button";
      button.addEventListener("click", function () { postStatus(p.move_url, { to: move.to }); });
      moves.appendChild(button);
    });
    if (p.can_undo && p.undo_url) {
      var undo = node("button", "small", "Undo " + p.status_label.toLowerCase());
      undo.type = "button";
      undo.addEventListener("click", function () { postStatus(p.undo_url, {}); });
      moves.appendChild(undo);
    }
    var record = $("visit-record");
    var canRecord = Boolean(p.record_url) && dialog.dataset.canRecord === "true";
    record.parentElement.hidden = !canRecord;
    record.href = canRecord ? p.record_url : "#";
    var cancel = $("visit-cancel");
    cancel.hidden = !p.moves.some(function (m) { return m.to === "cancelled"; });
    $("visit-cancel-reason").value = "";
    if (!dialog.open) dialog.showModal();
  }

  $("visit-cancel").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!state.openEvent) return;
    postStatus(state.openEvent.extendedProps.move_url, { to: "cancelled", reason: $("visit-cancel-reason").value });
  });

  // The status views answer JSON: {status, detail} when done, {code, detail} when refused
  // (a check-in of next week's visit is a 409 whose detail says the visit's day).
  function postStatus(url, fields) {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrf);
    Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
    var message = $("visit-message");
    message.hidden = true;
    return fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.json()
          .catch(function () { return { detail: "The server did not answer (" + response.status + "); nothing was changed." }; })
          .then(function (data) { return { ok: response.ok, data: data }; });
      })
      .catch(function () { return { ok: false, data: { detail: "The server could not be reached; nothing was changed." } }; })
      .then(function (result) {
        if (!result) return;
        if (result.ok) {
          dialog.close();
          say(result.data.detail || "Saved.");
          ec.refetchEvents();
          return;
        }
        message.textContent = result.data.detail || "That did not work.";
        message.hidden = false;
        message.focus();
      });
  }

  function say(text) { $("slot-status").textContent = text; }

  // --- Moves by drag and drop ------------------------------------------------------------
  function postJson(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(data),
    }).then(function (response) {
      return response.json().catch(function () { return { detail: "The server did not answer." }; })
        .then(function (body) { return { status: response.status, data: body }; });
    });
  }

  function fieldText(data) {
    var fields = data.fields || {};
    var parts = Object.keys(fields).map(function (k) { return [].concat(fields[k]).join(" "); });
    return [data.detail].concat(parts).join(" ");
  }

  function move(body, revert) {
    hideConflict();
    return postJson(cfg.moveUrl, body).then(function (result) {
      if (result.status === 200) {
        state.lastMove = result.data;
        $("move-text").textContent = result.data.detail;
        $("move-panel").hidden = false;
        say(result.data.detail);
      } else {
        if (revert) revert();
        // A taken time (409) or one not offered (400) comes with the nearest free ones.
        if ((result.data.alternatives || []).length) showConflict(result.data, body.appointment, fieldText(result.data));
        else say(fieldText(result.data));
      }
      ec.refetchEvents();
      return result;
    });
  }

  function dropped(info) {
    var body = { appointment: info.event.id, start: isoLocal(info.event.start) };
    if (info.newResource && info.newResource.id !== "none") {
      body[byParam() === "room" ? "room" : "provider"] = String(info.newResource.id);
    }
    move(body, info.revert);
  }

  function showConflict(data, appointmentId, text) {
    var panel = $("conflict-panel");
    $("conflict-text").textContent = text || data.detail;
    var list = $("conflict-list");
    list.replaceChildren();
    (data.alternatives || []).forEach(function (alt) {
      var item = node("li");
      var button = node("button", "small", alt.label + " · " + alt.provider_name + (alt.room_name ? " · " + alt.room_name : ""));
      button.type = "button";
      button.addEventListener("click", function () {
        move({ appointment: appointmentId, start: alt.start, provider: alt.provider, room: alt.room || undefined });
      });
      item.appendChild(button);
      list.appendChild(item);
    });
    if (!list.children.length) list.appendChild(node("li", "empty", "No free time nearby."));
    panel.hidden = false;
    panel.focus();
  }

  function hideConflict() { $("conflict-panel").hidden = true; }
  $("conflict-close").addEventListener("click", hideConflict);

  $("move-undo").addEventListener("click", function () {
    var last = state.lastMove;
    if (!last) return;
    move({ appointment: last.after.appointment, start: last.before.start, provider: last.before.provider, room: last.before.room || undefined })
      .then(function (result) {
        if (result.status === 200) {
          state.lastMove = null;
          $("move-panel").hidden = true;
          say("Move undone: " + result.data.detail);
        }
      });
  });

  // --- Views -----------------------------------------------------------------------------
  function pressButtons() {
    document.querySelectorAll("button[data-view]").forEach(function (button) {
      var on = button.dataset.view === state.view && (!button.dataset.by || button.dataset.by === state.by);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
    document.querySelectorAll(".week-provider").forEach(function (n) { n.hidden = state.view !== "week"; });
  }

  function setView(view, by) {
    state.view = view;
    if (by) state.by = by;
    state.cursor = null;
    state.resourcesKey = "";
    ec.setOption("view", VIEWS[view]);
    ec.refetchEvents();
    pressButtons();
    remember();
  }

  function remember() {
    var url = new URL(window.location.href);
    url.searchParams.set("view", state.view);
    url.searchParams.set("by", state.by);
    url.searchParams.set("date", isoDate(ec.getOption("date")));
    window.history.replaceState(null, "", url.toString());
    printLink(ec.getOption("date"));
  }

  // "Print the day" prints the day shown, per provider or per room as the columns are.
  function printLink(day) {
    var link = $("print-day");
    if (!link) return;
    var q = new URLSearchParams({ location: cfg.location, date: isoDate(day), by: state.view === "day" ? state.by : "provider" });
    link.href = link.dataset.printUrl + "?" + q.toString();
  }

  document.querySelectorAll("button[data-view]").forEach(function (button) {
    button.addEventListener("click", function () { setView(button.dataset.view, button.dataset.by); });
  });
  if (weekProvider) weekProvider.addEventListener("change", function () { if (ec) ec.refetchEvents(); });
  document.querySelectorAll("[data-nav]").forEach(function (link) {
    link.addEventListener("click", function (e) {
      e.preventDefault();
      if (link.dataset.nav === "prev") ec.prev();
      else if (link.dataset.nav === "next") ec.next();
      else ec.setOption("date", new Date());
      remember();
    });
  });

  function datesSet(info) {
    var title = info.view.title || "";
    $("calendar-range").textContent = title;
    printLink(ec ? ec.getOption("date") : info.view.currentStart);
    placeCursor();
  }

  // --- Keyboard: a slot cursor -----------------------------------------------------------
  function columns() {
    return Array.prototype.slice.call(el.querySelectorAll(".ec-body .ec-day, .ec-main .ec-day")).filter(function (n, i, all) {
      return all.indexOf(n) === i;
    });
  }

  function cursorTarget() {
    // What the cursor points at: the column's resource and day, and the time.
    var view = ec.getView();
    var cols = columns();
    var c = state.cursor;
    var dayStart = new Date(view.activeStart);
    var resource = null;
    var day = dayStart;
    if (state.view === "day") {
      resource = state.resources[c.column] || null;
    } else {
      day = new Date(dayStart.getFullYear(), dayStart.getMonth(), dayStart.getDate() + c.column);
    }
    return { resource: resource, day: day, minutes: c.minutes, count: cols.length };
  }

  function placeCursor() {
    var box = $("slot-cursor");
    if (!state.cursor || state.view === "month" || document.activeElement !== el) { box.hidden = true; return; }
    var cols = columns();
    var col = cols[state.cursor.column];
    if (!col) { box.hidden = true; return; }
    var min = hm(state.slots.min);
    var main = el.querySelector(".ec-main");
    var height = main ? parseFloat(getComputedStyle(main).getPropertyValue("--ec-slot-height")) || SLOT_HEIGHT : SLOT_HEIGHT;
    var offset = ((state.cursor.minutes - min) / SLOT_MINUTES) * height;
    var scroller = [el.querySelector(".ec-body"), main].filter(function (n) { return n && n.scrollHeight > n.clientHeight; })[0];
    if (scroller) {
      var view = scroller.getBoundingClientRect(), at = col.getBoundingClientRect().top + offset;
      if (at < view.top + 40) scroller.scrollTop -= view.top + 40 - at;
      else if (at + height > view.bottom) scroller.scrollTop += at + height - view.bottom;
    }
    var rect = col.getBoundingClientRect();
    var top = rect.top + offset;
    var host = el.getBoundingClientRect();
    box.style.left = (rect.left - host.left + el.offsetLeft) + "px";
    box.style.top = (top - host.top + el.offsetTop) + "px";
    box.style.width = rect.width + "px";
    box.style.height = height + "px";
    box.hidden = false;
    var t = cursorTarget();
    say((t.resource ? t.resource.title + ", " : "") + t.day.toDateString() + ", " + clock(t.minutes) + ". Enter books this time.");
  }

  function bookUrl(start, resource) {
    var q = new URLSearchParams({ location: cfg.location, start: isoLocal(start).slice(0, 16), date: isoDate(start) });
    if (resource && resource.id !== "none") q.set(byParam() === "room" ? "room" : "provider", String(resource.id));
    if (state.view === "week" && weekProvider && weekProvider.value) q.set("provider", weekProvider.value);
    return cfg.bookUrl + "?" + q.toString();
  }

  function cursorBookUrl() {
    var t = cursorTarget();
    var start = new Date(t.day.getFullYear(), t.day.getMonth(), t.day.getDate(), Math.floor(t.minutes / 60), t.minutes % 60);
    return bookUrl(start, t.resource);
  }

  function keyDown(e) {
    if (e.target !== el || state.view === "month") return;
    var min = hm(state.slots.min), max = hm(state.slots.max);
    if (!state.cursor) state.cursor = { column: 0, minutes: Math.max(min, Math.min(9 * 60, max - SLOT_MINUTES)) };
    var c = state.cursor, count = columns().length || 1, handled = true;
    if (e.key === "ArrowDown") c.minutes = Math.min(max - SLOT_MINUTES, c.minutes + SLOT_MINUTES);
    else if (e.key === "ArrowUp") c.minutes = Math.max(min, c.minutes - SLOT_MINUTES);
    else if (e.key === "ArrowRight") c.column = Math.min(count - 1, c.column + 1);
    else if (e.key === "ArrowLeft") c.column = Math.max(0, c.column - 1);
    else if (e.key === "Enter") { window.location.href = cursorBookUrl(); }
    else if (e.key === "Escape") { state.cursor = null; }
    else handled = false;
    if (handled) { e.preventDefault(); placeCursor(); scrollToCursor(); }
  }

  function scrollToCursor() {
    var box = $("slot-cursor");
    if (!box.hidden && box.scrollIntoViewIfNeeded) box.scrollIntoViewIfNeeded(false);
  }

  el.setAttribute("tabindex", "0");
  el.setAttribute("role", "application");
  el.setAttribute("aria-label", "Calendar");
  el.setAttribute("aria-describedby", "calendar-help slot-status");
  el.addEventListener("keydown", keyDown);
  el.addEventListener("focus", function () {
    if (!el.matches(":focus-visible")) return; // a mouse press on the grid: no cursor
    if (!state.cursor && state.view !== "month") {
      var min = hm(state.slots.min), max = hm(state.slots.max);
      state.cursor = { column: 0, minutes: Math.max(min, Math.min(9 * 60, max - SLOT_MINUTES)) };
    }
    placeCursor();
  });
  el.addEventListener("blur", function () { $("slot-cursor").hidden = true; });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !$("conflict-panel").hidden) hideConflict();
  });

  // --- The calendar ----------------------------------------------------------------------
  ec = EventCalendar.create(el, {
    view: VIEWS[state.view],
    date: parseDate(cfg.date),
    headerToolbar: { start: "", center: "", end: "" },
    height: "100%",
    resources: state.resources,
    slotMinTime: state.slots.min,
    slotMaxTime: state.slots.max,
    slotDuration: "00:15:00",
    slotHeight: SLOT_HEIGHT,
    scrollTime: "08:00:00",
    allDaySlot: false,
    nowIndicator: false,
    editable: true,
    eventDurationEditable: false,
    eventStartEditable: true,
    dayMaxEvents: true,
    eventBackgroundColor: "#ffffff",
    eventTextColor: "#1b2430",
    eventSources: [{ events: loadEvents }],
    eventContent: cardContent,
    eventDidMount: cardMounted,
    eventClick: function (info) {
      if (info.jsEvent.target.closest("a")) return; // the patient's name opens the chart
      var p = info.event.extendedProps;
      if (p.kind === "load") { ec.setOption("date", parseDate(p.date)); setView("day"); return; }
      if (p.kind === "visit") openVisit(info.event);
    },
    dateClick: function (info) {
      if (state.view === "month") { ec.setOption("date", info.date); setView("day"); return; }
      // A click on a free time books it: the booking page offers that slot (or the nearest).
      window.location.href = bookUrl(info.date, info.resource);
    },
    eventDragStart: function () { state.dragging = true; },
    eventDragStop: function () { state.dragging = false; },
    eventDrop: dropped,
    datesSet: datesSet,
    eventAllUpdated: placeCursor,
  });
  pressButtons();

  // Live: another desk's change shows within the poll (only the events re-render; the
  // dialog and the side panels keep what is being typed).
  window.setInterval(function () {
    if (!state.dragging && !document.hidden) ec.refetchEvents();
  }, POLL_MS);
})();
