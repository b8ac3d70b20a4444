// The dashboard page: renders each snapshot the server pushes (server-sent events), and
// sends the kill switch, resume and proposal decisions with the CSRF token. Every value is written with
// textContent, never as HTML, so nothing in a database can inject markup.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  let last = null;
  let chart = null;
  let totalSeries = null;
  let realizedSeries = null;
  let chartEnd = null;

  // ------------------------------------------------------------ formatting

  function time(ns) {
    if (ns === null || ns === undefined) return "";
    const d = new Date(Number(ns) / 1e6);
    return d.toISOString().replace("T", " ").slice(0, 19) + "Z";
  }

  function usd(text) {
    // A signed P&L: "+1.20 USD", "-0.40 USD"; under half a cent is "0.00 USD".
    if (text === null || text === undefined) return "";
    const cents = Math.round(Number(text) * 100);
    const sign = cents < 0 ? "-" : cents > 0 ? "+" : "";
    return sign + (Math.abs(cents) / 100).toFixed(2) + " USD";
  }

  function amount(text) {
    // An unsigned amount, such as fees paid.
    if (text === null || text === undefined) return "";
    return Number(text).toFixed(2) + " USD";
  }

  function plain(text) {
    // Decimals arrive as exact strings; show them as stored, without exponent noise.
    if (text === null || text === undefined) return "";
    return String(text);
  }

  function price(text) {
    if (text === null || text === undefined) return "";
    return Number(text).toLocaleString("en-US", { maximumFractionDigits: 8 });
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (cls) td.className = cls;
    return td;
  }

  function fillRows(tbody, items, toCells, empty) {
    tbody.replaceChildren();
    if (!items || items.length === 0) {
      const tr = document.createElement("tr");
      const td = cell(empty, "muted");
      td.colSpan = tbody.closest("table").querySelectorAll("thead th").length;
      tr.append(td);
      tbody.append(tr);
      return;
    }
    for (const item of items) {
      const tr = document.createElement("tr");
      for (const c of toCells(item)) tr.append(c);
      tbody.append(tr);
    }
  }

  function show(el, text) {
    el.hidden = !text;
    el.textContent = text || "";
  }

  function signClass(text) {
    const cents = Math.round(Number(text) * 100);
    return cents < 0 ? "neg" : cents > 0 ? "pos" : "";
  }

  // ------------------------------------------------------------ panels

  function renderGate(gate, counts) {
    const state = $("gate-state");
    state.textContent = gate.state.toUpperCase();
    state.className = "state state-" + gate.state;
    $("gate-source").textContent = gate.running ? "live from the gate" : "as last recorded in gate.db";
    $("gate-cause").textContent = gate.cause;
    $("gate-since").textContent = time(gate.since_ns);
    const live = gate.live;
    $("gate-agent").textContent = live
      ? (live.agent_connected ? "connected" : "not connected") +
        (live.last_heartbeat_ns ? ", last heartbeat " + time(live.last_heartbeat_ns) : "")
      : "unknown (gate not running)";
    $("gate-open-orders").textContent = live
      ? live.open_orders + (live.unknown_orders ? " (" + live.unknown_orders + " unknown)" : "")
      : counts ? counts.open_orders + " (journaled)" : "";
    $("gate-decisions").textContent = counts
      ? counts.accepted + " accepted, " + counts.rejected + " rejected" : "";
    $("fill-count").textContent = counts ? String(counts.fills) : "";
    const kill = gate.last_kill;
    $("gate-last-kill").textContent = kill
      ? time(kill.ts_ns) + ": " + kill.cancels_sent + " cancels, book " +
        (kill.verified_empty ? "verified empty" : "NOT verified empty: " + kill.remaining.join(", "))
      : "never";
    $("gate-config").textContent = live ? live.config_hash.slice(0, 16) + "\u2026" : "";
    show($("gate-db-error"), gate.db_error);
    fillRows($("gate-history"), gate.history, (h) => [
      cell(time(h.ts_ns)), cell(h.state), cell(h.detail ? h.cause + ": " + h.detail : h.cause), cell(h.set_by),
    ], "no state changes recorded");

    document.body.classList.toggle("is-halted", gate.halted);
    $("halt-banner").hidden = !gate.halted;
    $("halt-banner-cause").textContent = gate.halted ? "\u2014 " + gate.cause : "";
    const why = gate.live_error || "";
    const down = gate.running ? "" : why.charAt(0).toUpperCase() + why.slice(1) +
      ". The page shows what gate.db last recorded.";
    show($("down-banner"), down);
    renderControls(gate);
  }

  function renderControls(gate) {
    const kill = $("halt-button");
    kill.disabled = !gate.running;
    $("halt-help").textContent = gate.running
      ? "Latches HALTED and cancels every open order; you confirm by typing HALT."
      : "The kill switch cannot reach the gate: " + gate.live_error +
        ". A gate that is not running sends no orders; orders it placed before it stopped may still rest at the venue.";
    const resume = $("resume-button");
    resume.disabled = !gate.running || gate.state === "active";
    $("resume-help").textContent = !gate.running
      ? "Resume needs a running gate."
      : gate.state === "active" ? "The gate is active: nothing to resume."
      : "Only a human leaves " + gate.state.toUpperCase() + ", and says why (audited).";
  }

  function renderBook(book) {
    show($("book-error"), book.error);
    fillRows($("positions"), book.positions, (p) => [
      cell(p.product_id), cell(plain(p.base), "num"), cell(price(p.average_entry_usd), "num"),
      cell(price(p.last_price_usd), "num"), cell(usd(p.realized_pnl_usd), "num " + signClass(p.realized_pnl_usd)),
      cell(amount(p.fees_usd), "num"), cell(p.fill_count, "num"),
    ], book.error ? "unavailable" : "no fills yet");
    for (const row of $("positions").rows) row.dataset.product = row.cells[0].textContent;
    fillRows($("open-orders"), book.open_orders, (o) => [
      cell(time(o.created_ns)), cell(o.product_id), cell(o.side), cell(o.order_type + " " + o.time_in_force),
      cell(plain(o.size), "num"), cell(price(o.limit_price), "num"), cell(plain(o.filled_size), "num"), cell(o.status),
    ], book.error ? "unavailable" : "no open orders");
    fillRows($("recent-orders"), book.recent_orders, (o) => [
      cell(time(o.created_ns)), cell(o.product_id), cell(o.side), cell(plain(o.size), "num"),
      cell(price(o.average_price), "num"), cell(o.status),
    ], "no orders yet");
    renderDecisions(book.decisions, book.error);
  }

  function checksCell(d) {
    const td = document.createElement("td");
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    const refused = d.checks.filter((c) => !c.passed).length;
    summary.textContent = d.checks.length + " checks" + (refused ? ", " + refused + " refused" : ", all passed");
    details.append(summary);
    const list = document.createElement("ul");
    list.className = "checks";
    for (const c of d.checks) {
      const li = document.createElement("li");
      li.className = c.passed ? "pass" : "fail";
      li.textContent = (c.passed ? "\u2713 " : "\u2717 ") + c.name +
        (c.passed ? "" : ": " + c.code + " (" + c.fired_by + ") " + c.message);
      list.append(li);
    }
    details.append(list);
    td.append(details);
    return td;
  }

  function renderDecisions(decisions, error) {
    fillRows($("decisions"), decisions, (d) => [
      cell(time(d.ts_ns)), cell(d.strategy_id), cell(d.product_id), cell(d.side),
      cell(plain(d.size) + (d.size_in === "quote" ? " USD" : ""), "num"),
      cell(d.accepted ? "accepted" : "REJECTED " + d.code, d.accepted ? "pos" : "neg"),
      cell(d.refused_by.join(", ")),
      cell(d.accepted ? [d.regime, d.note].filter(Boolean).join(" / ") : d.message),
      checksCell(d),
    ], error ? "unavailable" : "no decisions yet");
  }

  function renderRejections(book, agent) {
    const codes = new Map();
    for (const r of book.rejections_by_code || []) codes.set(r.code, [r.count, 0]);
    for (const r of agent.rejections_by_code || []) {
      const row = codes.get(r.code) || [0, 0];
      row[1] = r.count;
      codes.set(r.code, row);
    }
    fillRows($("rejections"), [...codes.entries()], ([code, [gate, agentCount]]) => [
      cell(code), cell(gate, "num"), cell(agentCount, "num"),
    ], "no rejections");
  }

  function renderAgent(agent) {
    show($("agent-error"), agent.error);
    const pnl = agent.pnl;
    const set = (id, text) => {
      const el = $(id);
      el.textContent = pnl ? usd(text) : "";
      el.className = signClass(text);
    };
    set("pnl-total", pnl && pnl.total_usd);
    set("pnl-realized", pnl && pnl.realized_usd);
    set("pnl-unrealized", pnl && pnl.unrealized_usd);
    $("pnl-fees").textContent = pnl ? amount(pnl.fees_usd) : "";
    $("agent-fills").textContent = pnl ? String(pnl.fills) : "";
    $("trade-count").textContent = agent.error ? "" : String(agent.trade_count);
    renderChart(agent.curve);
    fillRows($("trades"), agent.trades, (t) => [
      cell(time(t.exit_ns)), cell(t.strategy_id), cell(t.product_id), cell(plain(t.size), "num"),
      cell(price(t.entry_price), "num"), cell(price(t.exit_price), "num"),
      cell(usd(t.net_pnl_usd), "num " + signClass(t.net_pnl_usd)),
      cell(t.r_multiple === null ? "" : Number(t.r_multiple).toFixed(2), "num"),
    ], agent.error ? "unavailable" : "no closed trades yet");
    fillRows($("signals"), agent.signals, (s) => [
      cell(time(s.ts_ns)), cell(s.strategy_id), cell(s.product_id), cell(s.action),
      cell(price(s.reference_price), "num"), cell(s.note),
    ], agent.error ? "unavailable" : "no signals yet");
    fillRows($("skips"), agent.skips, (s) => [
      cell(time(s.ts_ns)), cell(s.strategy_id), cell(s.product_id), cell(s.action), cell(s.why),
    ], agent.error ? "unavailable" : "no skipped signals");
  }

  function fieldCell(field, text, cls) {
    const td = cell(text, cls);
    td.dataset.field = field;
    return td;
  }

  function renderStrategies(agent) {
    // Exact as the agent wrote them: decimal strings, never re-rounded through a float.
    fillRows($("strategies"), agent.strategies, (r) => [
      fieldCell("strategy", r.strategy_id), fieldCell("product", r.product_id),
      fieldCell("confidence", plain(r.confidence), "num"),
      fieldCell("trade-count", plain(r.trade_count), "num"),
      fieldCell("win-rate", plain(r.win_rate), "num"),
      fieldCell("expectancy", plain(r.expectancy_bps), "num"),
      fieldCell("net-pnl", plain(r.net_pnl_usd) + " USD (" + r.trades_closed + " trades)",
        "num " + signClass(r.net_pnl_usd)),
      fieldCell("orders", r.orders_sent, "num"), fieldCell("refusals", r.refusals, "num"),
      fieldCell("last-intent", r.last_intent_ns === null ? "none yet"
        : time(r.last_intent_ns) + " " + r.last_intent_side + (r.last_regime ? " (" + r.last_regime + ")" : "")),
      fieldCell("signals", r.signals, "num"),
    ], agent.error ? "unavailable" : "no strategy has signalled yet");
    for (const row of $("strategies").rows) {
      if (row.cells.length < 2) continue;
      row.dataset.strategy = row.cells[0].textContent;
      row.dataset.product = row.cells[1].textContent;
    }
  }

  function renderAnomalies(panel) {
    const list = $("anomalies");
    list.replaceChildren();
    for (const a of panel.items) {
      const li = document.createElement("li");
      li.dataset.kind = a.kind;
      li.dataset.source = a.source;
      li.append(
        textBlock("span", a.ts_ns === null ? "now" : time(a.ts_ns), "when"),
        textBlock("span", a.source, "source source-" + a.source),
        textBlock("span", a.text, "text"),
      );
      list.append(li);
    }
    if (!panel.items.length) list.append(textBlock("li", panel.error ? "unknown" : "none", "none"));
    const timeout = panel.heartbeat_timeout_s;
    $("anomalies-checks").textContent =
      (panel.chain_checked_ns ? "audit chain checked " + time(panel.chain_checked_ns) : "audit chain not checked (no gate.db)") +
      "; heartbeats judged against " + (timeout === null ? "no timeout (safety.yaml unread)" : "the dead man's timeout of " + timeout + " s");
    show($("anomalies-notes"), panel.notes.join("; "));
    show($("anomalies-error"), panel.error);
  }

  function renderChart(curve) {
    $("chart-empty").hidden = curve.length > 0;
    if (typeof LightweightCharts === "undefined") return;
    if (chart === null) {
      chart = LightweightCharts.createChart($("pnl-chart"), {
        autoSize: true,
        layout: { attributionLogo: false, textColor: "#222", background: { color: "#ffffff" } },
        timeScale: { timeVisible: true, secondsVisible: true },
        rightPriceScale: { borderVisible: false },
      });
      totalSeries = chart.addSeries(LightweightCharts.LineSeries, { color: "#1f5fbf", lineWidth: 2, title: "total" });
      realizedSeries = chart.addSeries(LightweightCharts.LineSeries, { color: "#8a8f98", lineWidth: 1, title: "realized" });
    }
    totalSeries.setData(curve.map((p) => ({ time: p.time, value: Number(p.total_usd) })));
    realizedSeries.setData(curve.map((p) => ({ time: p.time, value: Number(p.realized_usd) })));
    const lastTime = curve.length ? curve[curve.length - 1].time : null;
    if (lastTime !== chartEnd) {
      chart.timeScale().fitContent();  // only when a point is added: keep the user's zoom
      chartEnd = lastTime;
    }
  }

  // ------------------------------------------------------------ rules and proposals

  let rulesSeen = null;
  let proposalsSeen = null;

  function textBlock(tag, text, cls) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (cls) el.className = cls;
    return el;
  }

  function sourceCell(r) {
    const td = document.createElement("td");
    const details = document.createElement("details");
    details.append(textBlock("summary", r.file), textBlock("pre", r.source_text, "rule-text"));
    td.append(details);
    return td;
  }

  function count(n) {
    return n === null || n === undefined ? "\u2014" : String(n);
  }

  function renderRules(panel) {
    const seen = JSON.stringify(panel);
    if (seen === rulesSeen) return;  // unchanged: keep any rule text the user opened
    rulesSeen = seen;
    $("rules-hash").textContent = panel.sha256 ? panel.sha256.slice(0, 16) + "\u2026" : "";
    $("rules-dir").textContent = panel.rules_dir || "";
    const loaded = panel.gate_loaded;
    $("rules-gate").textContent = panel.stats_error ? "counts unknown: " + panel.stats_error
      : !loaded ? "the gate has not recorded loading any rule set"
      : loaded.sha256 === panel.sha256 ? "the gate has this set in force (" + loaded.event_type + " " + time(loaded.ts_ns) + ")"
      : "the gate last loaded another set (" + loaded.sha256.slice(0, 12) + "\u2026 from " + loaded.source + ")";
    show($("rules-error"), panel.error);
    const all = [...panel.core, ...panel.active, ...panel.shadow];
    fillRows($("rules"), all, (r) => [
      cell(r.tier), cell(r.id, "mono"), cell(r.name), cell(r.author), cell(r.created),
      cell(count(r.evaluated), "num"), cell(count(r.fired), "num"), cell(time(r.last_fired_ns)),
      cell(r.counterfactual_pnl_usd === null ? "\u2014" : usd(r.counterfactual_pnl_usd), "num"),
      sourceCell(r),
    ], panel.error ? "the rule set does not load" : "no rules");
    for (const row of $("rules").rows) if (row.cells.length > 1) row.dataset.rule = row.cells[1].textContent;
  }

  function proposalCard(p) {
    const card = document.createElement("article");
    card.className = "proposal";
    card.dataset.proposal = p.id;
    card.dataset.testid = "proposal";
    card.append(textBlock("h3", p.id + (p.name ? " \u2014 " + p.name : "")));
    const facts = [
      "asks for " + p.asks_for,
      p.source ? "from " + p.source + (p.created ? ", " + p.created : "") : "no evidence file",
    ];
    card.append(textBlock("p", facts.join("; "), "muted"));
    if (p.summary) card.append(textBlock("p", p.summary, "summary"));
    if (p.evidence_error) card.append(textBlock("p", "evidence unreadable: " + p.evidence_error, "error"));
    const metrics = Object.entries(p.metrics || {});
    if (metrics.length) {
      const list = document.createElement("ul");
      list.className = "metrics";
      for (const [name, value] of metrics) list.append(textBlock("li", name + ": " + value));
      card.append(list);
    }
    card.append(textBlock("pre", p.text, "rule-text"));
    if (p.problems) card.append(textBlock("pre", p.problems, "error"));
    const buttons = document.createElement("div");
    buttons.className = "buttons";
    const approve = textBlock("button", "Approve\u2026");
    approve.type = "button";
    approve.dataset.testid = "approve-button";
    approve.disabled = Boolean(p.problems);
    approve.addEventListener("click", () => openProposalDialog("approve", p.id));
    const reject = textBlock("button", "Reject\u2026", "secondary");
    reject.type = "button";
    reject.dataset.testid = "reject-button";
    reject.addEventListener("click", () => openProposalDialog("reject", p.id));
    buttons.append(approve, reject);
    card.append(buttons);
    return card;
  }

  function renderProposals(panel) {
    const seen = JSON.stringify(panel);
    if (seen === proposalsSeen) return;
    proposalsSeen = seen;
    show($("proposals-error"), panel.error);
    const box = $("proposals");
    box.replaceChildren();
    for (const p of panel.pending) box.append(proposalCard(p));
    if (!panel.pending.length && !panel.error) box.append(textBlock("p", "no pending proposals", "muted"));
    fillRows($("proposal-decisions"), panel.decisions, (d) => [
      cell(d.ts), cell(d.id, "mono"), cell(d.decision), cell(d.tier), cell(d.operator), cell(d.reason),
    ], "no decisions yet");
  }

  const WORDS = { approve: "APPROVE", reject: "REJECT" };

  function openProposalDialog(name, id) {
    $(name + "-form").reset();
    $(name + "-form").dataset.proposal = id;
    $(name + "-id").textContent = id;
    $(name + "-submit").disabled = true;
    $(name + "-dialog").showModal();
    $(name + "-reason").focus();
  }

  function wireProposalDialog(name) {
    const submit = $(name + "-submit");
    const ready = () => {
      submit.disabled = $(name + "-confirm").value.trim() !== WORDS[name] ||
        $(name + "-reason").value.trim() === "";
    };
    $(name + "-confirm").addEventListener("input", ready);
    $(name + "-reason").addEventListener("input", ready);
    $(name + "-cancel").addEventListener("click", () => $(name + "-dialog").close());
    $(name + "-form").addEventListener("submit", (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      const body = {
        id: $(name + "-form").dataset.proposal, confirm: $(name + "-confirm").value,
        reason: $(name + "-reason").value, operator: $(name + "-operator").value,
      };
      if (name === "approve") body.to = $("approve-to").value;
      $(name + "-dialog").close();
      post("/api/proposals/" + name, body);
    });
  }

  function render(snap) {
    last = snap;
    $("generated").textContent = time(snap.generated_ns);
    renderGate(snap.gate, snap.book.counts);
    renderBook(snap.book);
    renderAnomalies(snap.gate.anomalies);
    renderAgent(snap.agent);
    renderStrategies(snap.agent);
    renderRejections(snap.book, snap.agent);
    renderRules(snap.rules);
    renderProposals(snap.proposals);
    document.body.dataset.generated = String(snap.generated_ns);
  }

  // ------------------------------------------------------------ live updates

  function connect() {
    const conn = $("connection");
    const events = new EventSource("/events");
    events.addEventListener("snapshot", (e) => {
      conn.textContent = "live";
      conn.className = "pill pill-live";
      render(JSON.parse(e.data));
    });
    events.onerror = () => {
      conn.textContent = "reconnecting\u2026 (if this stays, the dashboard stopped or the login expired)";
      conn.className = "pill pill-down";
    };
  }

  // ------------------------------------------------------------ actions

  async function post(path, body) {
    const result = $("action-result");
    result.textContent = "sending\u2026";
    result.className = "result";
    try {
      const response = await fetch(path, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      let message = text;
      let ok = response.ok;
      try {
        const parsed = JSON.parse(text);
        message = parsed.message;
        ok = ok && parsed.ok;
      } catch (err) { /* a plain-text refusal (401, 403): shown as is */ }
      result.textContent = (ok ? "\u2713 " : "\u2717 ") + message;
      result.className = "result " + (ok ? "ok" : "failed");
    } catch (err) {
      result.textContent = "\u2717 the dashboard did not answer: " + err;
      result.className = "result failed";
    }
  }

  function wireDialog(name, word, send) {
    const dialog = $(name + "-dialog");
    const confirm = $(name + "-confirm");
    const submit = $(name + "-submit");
    const reason = $(name + "-reason");
    const ready = () => {
      submit.disabled = confirm.value.trim() !== word ||
        (name === "resume" && reason.value.trim() === "");
    };
    confirm.addEventListener("input", ready);
    reason.addEventListener("input", ready);
    $(name + "-button").addEventListener("click", () => {
      $(name + "-form").reset();
      ready();
      dialog.showModal();
      reason.focus();
    });
    $(name + "-cancel").addEventListener("click", () => dialog.close());
    $(name + "-form").addEventListener("submit", (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      const body = send();
      dialog.close();
      post("/api/" + name, body);
    });
  }

  wireProposalDialog("approve");
  wireProposalDialog("reject");
  wireDialog("halt", "HALT", () => ({
    confirm: $("halt-confirm").value, reason: $("halt-reason").value, operator: $("halt-operator").value,
  }));
  wireDialog("resume", "RESUME", () => ({
    confirm: $("resume-confirm").value, reason: $("resume-reason").value,
    operator: $("resume-operator").value, to: $("resume-to").value,
  }));

  fetch("/api/snapshot", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
    .then((snap) => { if (last === null) render(snap); })
    .catch((err) => { $("connection").textContent = "cannot load: " + err.message; });
  connect();
})();
