/* LawGrid 移动执法: the officer's terminal. Plain script over the REST API.
 *
 * Every submission goes into a queue kept in localStorage, with a retry key in its body where
 * the server takes one; the queue is sent in order and re-sent until the server has answered.
 * A network failure or a 5xx keeps the item and retries; a 4xx is the server's answer (shown,
 * then dropped). A resent submission returns the first record: the server never makes two. */
(function () {
  "use strict";
  const body = document.body;
  const CSRF = body.dataset.csrf;
  const LANG = body.dataset.lang === "en" ? "en" : "zh";
  const USER = body.dataset.user;
  const QKEY = "lawgrid.queue." + USER;
  const BKEY = "lawgrid.block." + USER;
  const T = {
    zh: {
      tasks: "我的任务", none: "暂无任务", accept: "接受", decline: "拒绝", enroute: "出发", open: "进入现场",
      back: "返回", status_assigned: "待接受", status_accepted: "已接受", status_en_route: "前往中",
      status_on_site: "已到场", status_completed: "已完成", waiting: "前往现场中，到场后由定位自动确认",
      checklist: "检查清单", ok: "符合", violation: "不符合", not_checked: "未检查", save: "保存清单",
      evidence: "现场证据", photo: "拍照", note: "备注", add: "提交证据", record: "现场笔录",
      present: "现场人员（与当事人关系）", observed: "现场情况", found: "发现的物品及数量",
      cert_shown: "已出示执法证件", rights: "已告知申请回避等权利", make_record: "生成笔录",
      finish: "检查结果", compliant: "未发现违法，完成", found_violation: "发现违法，登记案源",
      onsite: "当场处罚（简易程序）", item: "执法事项", facts: "违法事实", fine: "罚款（元）",
      base: "计罚基数（元）", statement: "当事人陈述申辩", rights_told: "已告知处罚事实、理由、依据及陈述申辩权",
      decide: "作出当场处罚决定", sign: "签名", clear: "清除", party: "当事人", party_name: "当事人姓名",
      refuse: "当事人拒绝签名", refuse_reason: "拒签理由", witness: "见证人", clip: "执法记录仪片段",
      my_sign: "执法人员签名（本人）", seal: "加盖电子印章", refresh: "刷新", pdf: "查看 PDF",
      sealed: "已盖章", missing: "尚缺签名", signed: "已签名", queued: "待发送", online: "在线",
      offline: "离线，提交将在恢复后发送", sent: "已提交", refused: "被拒绝", decline_reason: "拒绝理由",
      saved: "已保存", doc_no: "文号", hash: "哈希", of: "共", to_sign: "待我签名的文书",
      inquiry: "询问笔录", interviewee: "被询问人", interviewee_id: "身份证件号码", relation: "与本案关系",
      recorder: "记录人", qa: "问答记录（问：…答：…）", read_back: "笔录已向被询问人宣读并确认无误",
      make_inquiry: "生成询问笔录",
    },
    en: {
      tasks: "My tasks", none: "No tasks", accept: "Accept", decline: "Decline", enroute: "En route", open: "On site",
      back: "Back", status_assigned: "to accept", status_accepted: "accepted", status_en_route: "en route",
      status_on_site: "on site", status_completed: "completed", waiting: "On the way: arrival is confirmed from the position",
      checklist: "Checklist", ok: "OK", violation: "Violation", not_checked: "Not checked", save: "Save checklist",
      evidence: "Evidence", photo: "Photo", note: "Note", add: "Add evidence", record: "On-site record",
      present: "Present (relation to the party)", observed: "Observed", found: "Items found",
      cert_shown: "Certificate shown", rights: "Rights told", make_record: "Make the record",
      finish: "Result", compliant: "No violation: complete", found_violation: "Violation: open a case source",
      onsite: "On-the-spot penalty", item: "Item", facts: "Facts", fine: "Fine (yuan)", base: "Base (yuan)",
      statement: "Party's statement", rights_told: "Facts, grounds and the right to be heard told",
      decide: "Decide on the spot", sign: "Sign", clear: "Clear", party: "Party", party_name: "Party's name",
      refuse: "Party refuses to sign", refuse_reason: "Reason", witness: "Witness", clip: "Camera clip",
      my_sign: "Officer's signature (you)", seal: "Seal", refresh: "Refresh", pdf: "Open PDF",
      sealed: "sealed", missing: "missing signatures", signed: "signed", queued: "queued", online: "online",
      offline: "offline: submissions are sent when back", sent: "sent", refused: "refused",
      decline_reason: "Reason to decline", saved: "saved", doc_no: "No.", hash: "hash", of: "of",
      to_sign: "Documents awaiting your signature", inquiry: "Inquiry record", interviewee: "Interviewee",
      interviewee_id: "ID number", relation: "Relation to the case", recorder: "Recorder",
      qa: "Questions and answers", read_back: "Read back and confirmed", make_inquiry: "Make the inquiry record",
    },
  }[LANG];
  const main = document.getElementById("m-main");
  let me = null;
  let current = null; // the open task's id
  const waiting = new Map(); // queue key -> {resolve, reject} of this page's own submissions

  // -- elements ---------------------------------------------------------------------------
  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else if (k === "text") node.textContent = v;
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined) node.append(kid);
    return node;
  }
  function flash(message, bad) {
    const box = el("div", { class: "flash" + (bad ? " bad" : ""), id: "m-flash", role: "status", text: message });
    document.getElementById("m-flash")?.remove();
    document.body.append(box);
    setTimeout(() => box.remove(), 6000);
  }
  function uuid() {
    return (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(16).slice(2));
  }

  // -- the API and the queue ----------------------------------------------------------------
  // A refusal in the terminal's language: each rule's reason (with the lawful range where the
  // answer gives one), else the error's own words.
  function explain(out) {
    if (!out) return "";
    if (Array.isArray(out.violations) && out.violations.length) {
      return out.violations.map((v) => {
        const bounds = v.range_yuan || v.range;
        const range = Array.isArray(bounds) ? "（" + bounds.join("–") + (LANG === "zh" ? " 元）" : " yuan)") : "";
        return (v.reason || v.rule) + range;
      }).join(LANG === "zh" ? "；" : "; ");
    }
    return out.detail || out.error || "";
  }

  async function api(method, path, data) {
    const r = await fetch("/api" + path + (path.includes("?") ? "&" : "?") + "lang=" + LANG, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
    let out = null;
    try { out = await r.json(); } catch (e) { out = null; }
    if (!r.ok) {
      const err = new Error(explain(out) || "HTTP " + r.status);
      err.status = r.status;
      err.data = out;
      throw err;
    }
    return out;
  }
  const load = () => { try { return JSON.parse(localStorage.getItem(QKEY) || "[]"); } catch (e) { return []; } };
  const store = (q) => { localStorage.setItem(QKEY, JSON.stringify(q)); showQueue(); };
  function send(label, method, path, data) {
    const key = uuid();
    store([...load(), { key, label, method, path, data }]);
    const done = new Promise((resolve, reject) => waiting.set(key, { resolve, reject }));
    flush();
    return done;
  }
  let flushing = false;
  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      for (let q = load(); q.length; q = load()) {
        const item = q[0];
        let result, error;
        try {
          result = await api(item.method, item.path, item.data);
        } catch (e) {
          if (!e.status || e.status >= 500 || e.status === 408 || e.status === 429) break; // keep, retry
          error = e;
        }
        store(load().filter((x) => x.key !== item.key));
        const w = waiting.get(item.key);
        waiting.delete(item.key);
        if (error) {
          flash(item.label + "：" + error.message, true);
          if (w) w.reject(error);
        } else if (w) w.resolve(result);
      }
    } finally {
      flushing = false;
      showQueue();
    }
  }
  function showQueue() {
    const n = load().length;
    const net = document.getElementById("m-net");
    const q = document.getElementById("m-queue");
    net.textContent = navigator.onLine ? T.online : T.offline;
    net.className = "net " + (navigator.onLine ? "on" : "off");
    q.textContent = n ? T.queued + " " + n : "";
    q.dataset.count = String(n);
  }
  window.addEventListener("online", flush);
  window.addEventListener("online", showQueue);
  window.addEventListener("offline", showQueue);
  setInterval(flush, 1500);

  function where() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) return resolve({});
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
        () => resolve({}),
        { timeout: 1500, maximumAge: 60000 },
      );
    });
  }
  async function sha256(bytes) {
    if (!(crypto.subtle && crypto.subtle.digest)) return undefined;
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(digest)).map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  // -- number block: numbered decisions while offline ---------------------------------------
  async function ensureBlock() {
    const have = JSON.parse(localStorage.getItem(BKEY) || "null");
    if (have && have.next <= have.last_no) return;
    if (!me.devices.length) return;
    try {
      const b = await api("POST", "/number-blocks", { doc_type: "onsite", device_id: me.devices[0].id, size: 10 });
      localStorage.setItem(BKEY, JSON.stringify({ ...b, next: b.first_no }));
    } catch (e) { /* offline: the server numbers the decision instead */ }
  }
  function takeNumber() {
    const b = JSON.parse(localStorage.getItem(BKEY) || "null");
    if (!b || b.next > b.last_no) return undefined;
    localStorage.setItem(BKEY, JSON.stringify({ ...b, next: b.next + 1 }));
    return b.prefix + "〔" + b.year + "〕" + b.next + "号";
  }

  // -- screens --------------------------------------------------------------------------------
  async function refresh() {
    try {
      me = await api("GET", "/my");
    } catch (e) {
      if (!me) main.replaceChildren(el("p", { class: "bad", id: "m-error", text: e.message }));
      return;
    }
    document.getElementById("m-who").textContent = me.officer.name + " · " + me.officer.unit;
    ensureBlock();
    if (current === -1) return; // a document open for signing: left as it is
    const open = current && me.tasks.find((t) => t.id === current);
    if (open) updateTask(open);
    else { current = null; renderList(); }
  }
  function statusLabel(s) { return T["status_" + s] || s; }
  function statusButton(task, status, label, extra) {
    return el("button", {
      class: "btn", id: `task-${task.id}-${status}`,
      on: { click: async () => {
        const data = { status, ...(extra ? extra() : {}) };
        if (extra && data.comment === null) return;
        try { await send(label + " #" + task.id, "POST", `/inspections/${task.id}/status`, data); } catch (e) {}
        refresh();
      } },
    }, label);
  }
  function renderList() {
    const cards = me.tasks.map((task) => el("section", { class: "card", id: `task-${task.id}` },
      el("h3", {}, task.target_name),
      el("p", { class: "muted" }, (task.address || "") + " · " + (LANG === "en" ? task.domain_en : task.domain_zh)),
      el("p", { class: "status", id: `task-${task.id}-status`, "data-status": task.status }, statusLabel(task.status)),
      el("div", { class: "row" },
        task.status === "assigned" ? [statusButton(task, "accepted", T.accept),
          statusButton(task, "declined", T.decline, () => ({ comment: prompt(T.decline_reason) }))] : null,
        task.status === "accepted" ? statusButton(task, "en_route", T.enroute) : null,
        task.status === "en_route" ? el("p", { class: "muted" }, T.waiting) : null,
        task.status === "on_site" ? el("button", { class: "btn primary", id: `task-${task.id}-open`,
          on: { click: () => { current = task.id; renderTask(task); } } }, T.open) : null)));
    const toSign = (me.to_sign || []).map((doc) => el("section", { class: "card", id: `to-sign-${doc.id}` },
      el("h3", {}, doc.title + (doc.doc_no ? " " + doc.doc_no : "")),
      el("button", { class: "btn primary", id: `to-sign-${doc.id}-open`, on: { click: () => {
        current = -1;
        main.replaceChildren(el("button", { class: "link", id: "task-back",
          on: { click: () => { current = null; renderList(); } } }, "‹ " + T.back), el("div", { id: "doc-panel" }));
        renderDocument(doc);
      } } }, T.sign)));
    main.replaceChildren(el("h2", {}, T.tasks), ...(cards.length ? cards : [el("p", { class: "muted" }, T.none)]),
      ...(toSign.length ? [el("h2", {}, T.to_sign), ...toSign] : []));
  }

  function evidenceItems(task) {
    return task.evidence.map((e) => el("li", { "data-kind": e.kind }, (e.kind === "photo" ? "[" + T.photo + "] " : "[" + T.note + "] ") +
      (e.note || "") + (e.sha256 ? " " + T.hash + " " + e.sha256.slice(0, 12) : "")));
  }
  function updateTask(task) {
    // a refresh while a task is open touches only what changes by itself: what is typed or drawn stays
    const status = document.getElementById("task-status");
    if (!status) return renderTask(task);
    status.textContent = statusLabel(task.status);
    status.dataset.status = task.status;
    document.getElementById("evidence-list").replaceChildren(...evidenceItems(task));
  }
  function renderTask(task) {
    const saved = (task.checklist && task.checklist.results) || {};
    const points = task.check_points.map((p) => {
      const key = p.code + ":" + p.seq;
      const choice = saved[key] || "not_checked";
      return el("fieldset", { class: "point", "data-point": key },
        el("legend", {}, p.content),
        ...["ok", "violation", "not_checked"].map((r) => el("label", {},
          el("input", { type: "radio", name: "cp-" + key, value: r, checked: r === choice }), T[r])));
    });
    const photo = el("input", { type: "file", accept: "image/*", capture: "environment", id: "photo-input" });
    const note = el("textarea", { id: "note-input", rows: 2, placeholder: T.note });
    const evidence = el("ul", { id: "evidence-list" }, evidenceItems(task));
    main.replaceChildren(
      el("button", { class: "link", id: "task-back", on: { click: () => { current = null; renderList(); } } }, "‹ " + T.back),
      el("h2", {}, task.target_name),
      el("p", { class: "status", id: "task-status", "data-status": task.status }, statusLabel(task.status)),
      el("section", { class: "card", id: "checklist" }, el("h3", {}, T.checklist), points,
        el("button", { class: "btn", id: "checklist-save", on: { click: async () => {
          const results = {};
          for (const box of main.querySelectorAll("fieldset.point")) {
            results[box.dataset.point] = box.querySelector("input:checked")?.value || "not_checked";
          }
          try { await send(T.checklist, "PUT", `/inspections/${task.id}/checklist`, { results }); flash(T.saved); } catch (e) {}
        } } }, T.save)),
      el("section", { class: "card", id: "evidence" }, el("h3", {}, T.evidence), photo, note,
        el("button", { class: "btn", id: "evidence-save", on: { click: () => addEvidence(task, photo, note) } }, T.add),
        evidence),
      recordForm(task),
      inquiryForm(task),
      el("section", { class: "card", id: "finish" }, el("h3", {}, T.finish),
        el("div", { class: "row" },
          statusButton(task, "completed", T.compliant, () => ({ result: "compliant" })),
          statusButton(task, "completed", T.found_violation, () => ({ result: "violation" })))),
      onsiteForm(task),
      el("div", { id: "doc-panel" }),
    );
    main.querySelectorAll("#finish button")[1].id = `task-${task.id}-violation`;
  }

  async function addEvidence(task, photo, note) {
    const at = new Date().toISOString();
    const pos = await where();
    const file = photo.files && photo.files[0];
    const device = me.devices[0] ? me.devices[0].id : undefined;
    let data;
    if (file) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const b64 = await new Promise((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result).split(",")[1]);
        reader.readAsDataURL(file);
      });
      data = { kind: "photo", image: b64, sha256: await sha256(bytes), note: note.value || undefined };
    } else if (note.value.trim()) {
      data = { kind: "note", note: note.value.trim() };
    } else return;
    photo.value = "";
    note.value = "";
    const payload = { ...data, taken_at: at, device_id: device, client_key: uuid(), ...pos };
    try {
      await send(T.evidence, "POST", `/inspections/${task.id}/evidence`, payload);
      flash(T.sent);
      refresh();
    } catch (e) {}
  }

  function recordForm(task) {
    const f = {
      present: el("input", { id: "rec-present", placeholder: T.present }),
      observed: el("textarea", { id: "rec-observed", rows: 3, placeholder: T.observed }),
      items_found: el("textarea", { id: "rec-items", rows: 2, placeholder: T.found }),
      certificate_shown: el("input", { type: "checkbox", id: "rec-cert", checked: true }),
      rights_told: el("input", { type: "checkbox", id: "rec-rights", checked: true }),
    };
    return el("section", { class: "card", id: "record" }, el("h3", {}, T.record),
      f.present, f.observed, f.items_found,
      el("label", {}, f.certificate_shown, T.cert_shown), el("label", {}, f.rights_told, T.rights),
      el("button", { class: "btn", id: "record-issue", on: { click: async () => {
        const fields = {
          time_from: task.on_site_at || new Date().toISOString(), time_to: new Date().toISOString(),
          place: task.address || task.target_name, present: f.present.value, observed: f.observed.value,
          items_found: f.items_found.value, certificate_shown: f.certificate_shown.checked,
          rights_told: f.rights_told.checked,
          media: task.evidence.filter((e) => e.kind === "photo").map((e) => "照片 SHA-256 " + e.sha256),
        };
        await makeDocument({ template: "onsite_record", inspection_id: task.id, fields, client_key: uuid() });
      } } }, T.make_record));
  }

  function inquiryForm(task) {
    const f = {
      interviewee: el("input", { id: "inq-name", placeholder: T.interviewee }),
      interviewee_id: el("input", { id: "inq-id", placeholder: T.interviewee_id }),
      relation: el("input", { id: "inq-relation", placeholder: T.relation }),
      recorder: el("input", { id: "inq-recorder", placeholder: T.recorder, value: me.officer.name }),
      qa: el("textarea", { id: "inq-qa", rows: 5, placeholder: T.qa }),
      read_back: el("input", { type: "checkbox", id: "inq-read-back" }),
    };
    const started = new Date().toISOString();
    return el("section", { class: "card", id: "inquiry" }, el("h3", {}, T.inquiry),
      f.interviewee, f.interviewee_id, f.relation, f.recorder, f.qa, el("label", {}, f.read_back, T.read_back),
      el("button", { class: "btn", id: "inquiry-issue", on: { click: () => makeDocument({
        template: "inquiry_record", inspection_id: task.id, client_key: uuid(),
        fields: { time_from: started, time_to: new Date().toISOString(), place: task.address || task.target_name,
                  interviewee: f.interviewee.value, interviewee_id: f.interviewee_id.value,
                  relation: f.relation.value, recorder: f.recorder.value, qa: f.qa.value,
                  rights_told: true, read_back: f.read_back.checked },
      }) } }, T.make_inquiry));
  }

  function onsiteForm(task) {
    const items = el("select", { id: "onsite-item" });
    api("GET", "/items?unit=" + me.officer.unit_id).then((r) => {
      for (const it of r.items.filter((x) => x.power_type === "penalty")) {
        items.append(el("option", { value: it.code }, it.name + "（" + it.code + "）"));
      }
    }).catch(() => {});
    const facts = el("textarea", { id: "onsite-facts", rows: 3, placeholder: T.facts });
    const fine = el("input", { id: "onsite-fine", type: "number", min: 0, step: "0.01", placeholder: T.fine });
    const base = el("input", { id: "onsite-base", type: "number", min: 0, step: "0.01", placeholder: T.base });
    const statement = el("textarea", { id: "onsite-statement", rows: 2, placeholder: T.statement });
    const told = el("input", { type: "checkbox", id: "onsite-rights" });
    return el("section", { class: "card", id: "onsite" }, el("h3", {}, T.onsite),
      el("label", {}, T.item, items), facts, fine, base, statement, el("label", {}, told, T.rights_told),
      el("button", { class: "btn primary", id: "onsite-decide", on: { click: async () => {
        const amount = Number(fine.value || 0);
        const body = {
          target_id: task.target_id, item_code: items.value, officer_ids: task.officers.map((o) => o.id),
          facts: facts.value, rights_told: told.checked, statement: statement.value || undefined,
          penalty: { kinds: amount > 0 ? ["fine"] : ["warning"], fine_yuan: amount,
                     base_yuan: base.value ? Number(base.value) : undefined },
          decision_no: takeNumber(), client_key: uuid(),
        };
        let made;
        try { made = await send(T.decide, "POST", "/cases/onsite", body); } catch (e) { return; }
        const pos = await where();
        await makeDocument({
          template: "onsite_decision", case_id: made.id, client_key: uuid(),
          fields: { decided_at: new Date().toISOString(), place: task.address || task.target_name },
        }, pos);
      } } }, T.decide));
  }

  // -- documents and signatures ------------------------------------------------------------------
  async function makeDocument(draft) {
    let doc;
    try {
      doc = await send(T.record, "POST", "/documents", draft);
      if (doc.status === "draft") doc = await send(T.record, "POST", `/documents/${doc.id}/issue`, {});
    } catch (e) { return; }
    renderDocument(doc);
  }

  function pad(id) {
    const canvas = el("canvas", { id, width: 340, height: 140, class: "pad" });
    const ctx = canvas.getContext("2d");
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    let drawing = false;
    canvas.dataset.strokes = "0";
    const at = (e) => { const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
    canvas.addEventListener("pointerdown", (e) => { drawing = true; ctx.beginPath(); ctx.moveTo(...at(e)); canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointermove", (e) => { if (drawing) { ctx.lineTo(...at(e)); ctx.stroke(); } });
    canvas.addEventListener("pointerup", () => { drawing = false; canvas.dataset.strokes = String(Number(canvas.dataset.strokes) + 1); });
    canvas.clear = () => { ctx.clearRect(0, 0, canvas.width, canvas.height); canvas.dataset.strokes = "0"; };
    canvas.png = () => {
      const out = document.createElement("canvas");
      out.width = canvas.width;
      out.height = canvas.height;
      const o = out.getContext("2d");
      o.fillStyle = "#fff";
      o.fillRect(0, 0, out.width, out.height);
      o.drawImage(canvas, 0, 0);
      return out.toDataURL("image/png");
    };
    return canvas;
  }

  function renderDocument(doc) {
    const panel = document.getElementById("doc-panel");
    if (!panel) return;
    const mine = doc.signatures.some((s) => s.signer_kind === "officer" && s.login === USER);
    const hasParty = doc.signatures.some((s) => s.signer_kind === "party");
    const sign = async (data) => {
      const pos = await where();
      const device = me.devices[0] ? me.devices[0].id : undefined;
      try {
        const next = await send(T.sign, "POST", `/documents/${doc.id}/signatures`,
          { doc_sha256: doc.pdf_sha256, device_id: device, client_key: uuid(), ...pos, ...data });
        renderDocument(next);
      } catch (e) {}
    };
    const officerPad = pad("officer-pad");
    const partyPad = pad("party-pad");
    const partyName = el("input", { id: "party-name", placeholder: T.party_name });
    const reason = el("input", { id: "refuse-reason", placeholder: T.refuse_reason });
    const witness = el("input", { id: "refuse-witness", placeholder: T.witness });
    const clip = el("input", { id: "refuse-clip", placeholder: T.clip });
    panel.replaceChildren(el("section", { class: "card doc", id: `doc-${doc.id}`, "data-status": doc.status },
      el("h3", {}, doc.title + (doc.doc_no ? " " + doc.doc_no : "")),
      el("p", { class: "muted" }, T.hash + " " + (doc.sealed_sha256 || doc.pdf_sha256 || "").slice(0, 16)),
      el("a", { href: doc.pdf_url, target: "_blank", id: `doc-${doc.id}-pdf`, class: "btn" }, T.pdf),
      el("ul", { class: "sigs" }, doc.signatures.map((s) => el("li", {},
        (s.method === "refused" ? "✗ " : "✓ ") + s.signer_name + " · " + s.signer_kind))),
      doc.status === "sealed" ? el("p", { class: "ok", id: `doc-${doc.id}-sealed` }, "✓ " + T.sealed) : [
        doc.signatures_missing.length ? el("p", { class: "muted", id: `doc-${doc.id}-missing` },
          T.missing + "：" + (doc.still_to_sign || []).map((w) => (LANG === "en" ? w.en : w.zh)).join(LANG === "en" ? ", " : "，")) : null,
        mine ? null : el("div", { class: "sign" }, el("h4", {}, T.my_sign), officerPad,
          el("div", { class: "row" },
            el("button", { class: "btn", on: { click: () => officerPad.clear() } }, T.clear),
            el("button", { class: "btn primary", id: "sign-officer", on: { click: () =>
              sign({ signer_kind: "officer", image_png: officerPad.png() }) } }, T.sign))),
        hasParty ? null : el("div", { class: "sign" }, el("h4", {}, T.party), partyName, partyPad,
          el("div", { class: "row" },
            el("button", { class: "btn", on: { click: () => partyPad.clear() } }, T.clear),
            el("button", { class: "btn primary", id: "sign-party", on: { click: () =>
              sign({ signer_kind: "party", signer_name: partyName.value, image_png: partyPad.png() }) } }, T.sign)),
          el("details", {}, el("summary", {}, T.refuse), reason, witness, clip,
            el("button", { class: "btn", id: "party-refuse", on: { click: () => sign({
              signer_kind: "party", signer_name: partyName.value, refused: true, refusal_reason: reason.value,
              witness: witness.value || undefined, media_clip: clip.value || undefined }) } }, T.refuse))),
        el("div", { class: "row" },
          el("button", { class: "btn", id: `doc-${doc.id}-refresh`, on: { click: async () =>
            renderDocument(await api("GET", `/documents/${doc.id}`)) } }, T.refresh),
          el("button", { class: "btn primary", id: `doc-${doc.id}-seal`, disabled: doc.signatures_missing.length > 0,
            on: { click: async () => {
              try { renderDocument(await send(T.seal, "POST", `/documents/${doc.id}/seal`, undefined)); } catch (e) {}
            } } }, T.seal)),
      ]));
    panel.scrollIntoView({ block: "start" });
  }

  showQueue();
  refresh();
  setInterval(() => { if (navigator.onLine && !load().length) refresh(); }, 4000);
})();
