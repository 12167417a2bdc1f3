// The command map's clientside callbacks: the targets layer's data URL, zooming into a
// cell, and the alarm tone, banner and fly-to.
Object.assign(window.dash_clientside.lawgrid, {
    // The viewport's data URL: the layer fetches it itself, so no Python callback runs on a pan.
    targetsUrl: function (bounds, zoom, towns, domains, risks, q, center) {
        if (!bounds) {
            // Before the first move the map reports only its centre and zoom.
            const el = document.getElementById("overview-map");
            if (!center || zoom === undefined || zoom === null || !el) { return window.dash_clientside.no_update; }
            const degPerPx = 360 / 256 / Math.pow(2, zoom);
            const dx = el.clientWidth / 2 * degPerPx;
            const dy = el.clientHeight / 2 * degPerPx * Math.cos(center[0] * Math.PI / 180);
            bounds = [[center[0] - dy, center[1] - dx], [center[0] + dy, center[1] + dx]];
        }
        const s = bounds[0][0], w = bounds[0][1], n = bounds[1][0], e = bounds[1][1];
        if (zoom === undefined || zoom === null) {
            const el = document.getElementById("overview-map");
            const px = el ? el.clientWidth : 1200;
            zoom = Math.floor(Math.log2(360 * px / 256 / Math.max(e - w, 1e-6)));
        }
        const params = new URLSearchParams();
        params.set("bbox", [w, s, e, n].map(v => v.toFixed(5)).join(","));
        params.set("zoom", String(Math.round(zoom)));
        (towns || []).forEach(v => params.append("township", v));
        (domains || []).forEach(v => params.append("domain", v));
        (risks || []).forEach(v => params.append("risk", v));
        if (q) { params.set("q", q); }
        return "/api/targets/map?" + params.toString();
    },
    // Clicking a cell zooms into it; clicking a target leaves the card to Python.
    zoomIntoCell: function (feature, zoom) {
        if (!feature || !feature.properties || feature.properties.n === undefined) {
            return window.dash_clientside.no_update;
        }
        const c = feature.geometry.coordinates;
        return {center: [c[1], c[0]], zoom: Math.min((zoom || 10) + 2, 18), transition: "flyTo"};
    },
    // A new alarm: a short tone, then the panel (and the banner, in Python) refresh, unless
    // the pointer is over the alarm list: then the refresh waits until it leaves, so no row
    // moves under a click (see the mouseleave handler below).
    alarmTone: function (alarm) {
        if (!alarm) { return window.dash_clientside.no_update; }
        const lg = window.lawgrid;
        if (alarm.status === "open") {
            try {
                const ctx = new (window.AudioContext || window.webkitAudioContext)();
                const osc = ctx.createOscillator();
                osc.frequency.value = alarm.kind === "sos" ? 880 : 660; osc.connect(ctx.destination);
                osc.start(); osc.stop(ctx.currentTime + 0.4);
            } catch (e) { /* no audio device: the banner still shows */ }
        }
        lg.alarmsSeen = (lg.alarmsSeen || 0) + 1;
        if (lg.alarmHeld()) { lg.alarmPending = true; return window.dash_clientside.no_update; }
        return Date.now();
    },
    // Every RESYNC_MS, and when the live socket (re)connects, the list redraws from the
    // database (a push lost in a reconnect never hides an alarm), unless it is held.
    alarmResync: function (_n, connected) {
        const lg = window.lawgrid;
        const fired = (window.dash_clientside.callback_context.triggered || []).map(t => t.prop_id);
        if (fired.includes("live-socket.connected") && !connected) {
            return window.dash_clientside.no_update;
        }
        if (lg.alarmHeld()) { lg.alarmPending = true; return window.dash_clientside.no_update; }
        return Date.now();
    },
    // Unresolved alarms keep their officer's marker in the alarm's colour (SOS red, others
    // the alarm colour) whatever the device's next ordinary fix says.
    setAlarmed: function (rows) {
        const lg = window.lawgrid, alarmed = new Map();
        (rows || []).forEach(a => {
            if (a.kind === "offline") { return; }  // the dot's own state says offline, and back online it is not
            if (!alarmed.has(a.device_id) || a.kind === "sos") { alarmed.set(a.device_id, a.kind === "sos" ? "sos" : "alarm"); }
        });
        lg.alarmed = alarmed;
        if (lg.dots) { lg.dots.requestDraw(); }
        return alarmed.size;
    },
    // The target card opens over the map beside the target clicked (kept inside the map);
    // a cell click zooms instead, and the close button hides it.
    placeCard: function (feature, _close) {
        const trig = window.dash_clientside.callback_context.triggered_id, lg = window.lawgrid;
        if (trig === "card-close") { return {display: "none"}; }
        if (!feature || !feature.properties || feature.properties.id === undefined || !lg.map) {
            return window.dash_clientside.no_update;
        }
        const c = feature.geometry.coordinates, el = lg.map.getContainer();
        const p = lg.map.latLngToContainerPoint([c[1], c[0]]);
        const width = 320, height = 360, gap = 14;
        let left = p.x + gap, top = p.y - 40;
        if (left + width > el.clientWidth) { left = Math.max(4, p.x - gap - width); }
        top = Math.max(4, Math.min(top, el.clientHeight - height));
        return {display: "block", left: (el.offsetLeft + left) + "px", top: (el.offsetTop + top) + "px", width: width + "px"};
    },
    // The palette, once per page (the names come when first needed: lawgrid.loadNames).
    setLiveColors: function (colors) {
        const lg = window.lawgrid;
        lg.liveColors = Object.assign({}, colors || {});
        if (lg.dots) { lg.dots.requestDraw(); }
        lg.loadNames();
        return Object.keys(lg.liveColors).length;
    },
    // The township chart, once the map is up (plotly.js is loaded only when a Graph is
    // drawn, and parsing it would delay the map); later figures update it in place.
    showChart: async function (figure) {
        const lg = window.lawgrid;
        await lg.mapUp;
        if (document.getElementById("township-chart")) {
            window.dash_clientside.set_props("township-chart", {figure: figure});
            return window.dash_clientside.no_update;
        }
        return {namespace: "dash_core_components", type: "Graph", props: {
            id: "township-chart", figure: figure, config: {displaylogo: false}, style: {height: "520px"}}};
    },
    // Find an officer or a device by name or number: select it and fly to its last position.
    findLive: async function (query) {
        const lg = window.lawgrid, q = String(query || "").trim().toLowerCase();
        if (!q) { return ["", window.dash_clientside.no_update]; }
        await lg.loadNames();
        const matches = Object.entries(lg.meta).filter(([, m]) =>
            String(m[0] || "").toLowerCase().includes(q) || String(m[3] || "").toLowerCase().includes(q));
        if (!matches.length) { return [lg.t("js.find.none"), window.dash_clientside.no_update]; }
        const placed = matches.find(([id]) => lg.live.has(Number(id)));
        const more = matches.length > 1 ? " · " + lg.t("js.find.more").replace("{n}", matches.length) : "";
        if (!placed) { return [(matches[0][1][0] || matches[0][1][3]) + " · " + lg.t("js.find.no_position") + more,
                               window.dash_clientside.no_update]; }
        const id = Number(placed[0]), d = lg.live.get(id);
        lg.select(id);
        return [(placed[1][0] || placed[1][3]) + more, {center: [d.lat, d.lon], zoom: 16, transition: "flyTo"}];
    },
    locateAlarm: function (clicks, alarms) {
        const trig = window.dash_clientside.callback_context.triggered_id;
        if (!trig || !clicks.some(Boolean)) { return window.dash_clientside.no_update; }
        const a = (alarms || []).find(x => x.id === trig.id);
        if (!a || a.lat === null) { return window.dash_clientside.no_update; }
        return {center: [a.lat, a.lon], zoom: 16, transition: "flyTo"};
    },
});

// Hold the alarm list still while the pointer is over it or a comment is being typed in it;
// catch up when both have left.
window.lawgrid.alarmHeld = function () {
    const typing = document.activeElement && document.activeElement.closest
        && document.activeElement.closest("#alarm-list");
    return Boolean(window.lawgrid.alarmHover || typing);
};
function alarmCatchUp() {
    const lg = window.lawgrid;
    if (!lg.alarmHeld() && lg.alarmPending && window.dash_clientside.set_props) {
        lg.alarmPending = false;
        window.dash_clientside.set_props("alarm-tick", {data: Date.now()});
    }
}
document.addEventListener("mouseover", function (e) {
    window.lawgrid.alarmHover = Boolean(e.target.closest && e.target.closest("#alarm-list"));
    alarmCatchUp();
});
document.addEventListener("focusout", () => setTimeout(alarmCatchUp, 0));
// A click on an alarm row's button goes to the alarm-act store with the row's typed comment.
document.addEventListener("click", function (e) {
    const b = e.target.closest && e.target.closest("#alarm-list button[data-action]");
    if (!b || !window.dash_clientside.set_props) { return; }
    const input = b.closest(".lg-alarm").querySelector("input");
    window.dash_clientside.set_props("alarm-act", {data: {
        action: b.dataset.action, id: Number(b.dataset.alarmId), note: input ? input.value : null, at: Date.now()}});
});

// The devices' names ({id: [officer, unit, kind, number]}), fetched once, after the map is up.
window.lawgrid.loadNames = function () {
    const lg = window.lawgrid;
    if (!lg.namesPromise) {
        lg.namesPromise = lg.mapUp
            .then(() => fetch("/api/devices/names", {credentials: "same-origin"}))
            .then(r => (r.ok ? r.json() : {}))
            .then(names => { lg.meta = names || {}; lg.describeSelected(); return lg.meta; })
            .catch(() => { lg.namesPromise = null; return lg.meta; });
    }
    return lg.namesPromise;
};

// A viewport answer capped at its limit says so in its headers (X-LawGrid-Truncated/-Limit):
// the map then asks the user to zoom in. Read from the headers of the layer's own fetch, so
// the body is parsed once, by the layer; only the latest viewport's answer counts.
(function () {
    const original = window.fetch;
    window.fetch = function (input) {
        const url = typeof input === "string" ? input : (input && input.url) || "";
        const answer = original.apply(this, arguments);
        if (url.indexOf("/api/targets/map?") !== -1) {
            const lg = window.lawgrid;
            lg.targetsAsked = url;
            answer.then(r => {
                if (lg.targetsAsked === url) {
                    lg.showTruncated(r.headers.get("X-LawGrid-Truncated") === "true", r.headers.get("X-LawGrid-Limit"));
                }
            }).catch(() => {});
        }
        return answer;
    };
})();
window.lawgrid.showTruncated = function (truncated, limit) {
    const lg = window.lawgrid;
    if (!lg.map) { return; }
    let note = document.getElementById("targets-truncated");
    if (!note) {
        note = document.createElement("div");
        note.id = "targets-truncated";
        note.className = "lg-truncated";
        lg.map.getContainer().appendChild(note);
    }
    note.textContent = truncated ? lg.t("js.truncated").replace("{n}", Number(limit).toLocaleString()) : "";
    note.style.display = truncated ? "block" : "none";
};
