// Live officers and cameras: Socket.IO batches of [id, lat, lon, state, recording, sos, time]
// update plain records; one canvas layer repaints them all at most once a frame. Nothing is
// re-rendered by React or sent by Python, so a batch of thousands costs a few milliseconds.
window.lawgrid.live = window.lawgrid.live || new Map();
// Colours come from dashboard/palette.py (the live-colors store, see setLiveMeta).
window.lawgrid.liveColors = window.lawgrid.liveColors || {};
window.lawgrid.meta = window.lawgrid.meta || {};  // device id -> [officer, unit, kind, identifier]
window.lawgrid.alarmed = window.lawgrid.alarmed || new Map();  // device id -> "sos" | "alarm", until resolved
window.lawgrid.onTask = window.lawgrid.onTask || new Set();  // device ids of crews on a task
window.lawgrid.TRAIL_POINTS = 240;  // about four minutes at 1 Hz

window.lawgrid.LiveDots = L.Layer.extend({
    onAdd: function (map) {
        this._canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide lg-live-canvas");
        this._canvas.style.pointerEvents = "none";  // clicks reach the targets beneath
        map.getPane("livePane").appendChild(this._canvas);
        map.on("moveend zoomend resize viewreset", this._reset, this);
        this._reset();
    },
    onRemove: function (map) {
        L.DomUtil.remove(this._canvas);
        map.off("moveend zoomend resize viewreset", this._reset, this);
    },
    _reset: function () {
        const map = this._map, size = map.getSize(), ratio = window.devicePixelRatio || 1;
        this._canvas.width = size.x * ratio; this._canvas.height = size.y * ratio;
        this._canvas.style.width = size.x + "px"; this._canvas.style.height = size.y + "px";
        L.DomUtil.setPosition(this._canvas, map.containerPointToLayerPoint([0, 0]));
        this.draw();
    },
    requestDraw: function () {
        if (!this._frame && this._map) {
            this._frame = L.Util.requestAnimFrame(() => { this._frame = null; this.draw(); });
        }
    },
    draw: function () {
        const map = this._map, ctx = this._canvas.getContext("2d"), ratio = window.devicePixelRatio || 1;
        const size = map.getSize(), lg = window.lawgrid, colors = lg.liveColors;
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        ctx.clearRect(0, 0, size.x, size.y);
        const buckets = new Map();  // one path per style: few fillStyle changes
        lg.live.forEach(d => {
            const p = map.latLngToContainerPoint([d.lat, d.lon]);
            if (p.x < -10 || p.y < -10 || p.x > size.x + 10 || p.y > size.y + 10) { return; }
            const state = d.sos || lg.alarmed.get(d.id) === "sos" ? "sos" : (lg.alarmed.get(d.id) ||
                (d.state !== "offline" && lg.onTask.has(d.id) ? "task" : d.state));
            const key = state + (d.recording === false ? "|rec-off" : "");
            let b = buckets.get(key);
            if (!b) { b = []; buckets.set(key, b); }
            b.push(p);
        });
        // Drawn calmest first, so an SOS or an alarm is never under another officer's dot.
        const rank = k => ({offline: 0, stale: 1, online: 2, task: 3, alarm: 4, sos: 5})[k.split("|")[0]] || 0;
        [...buckets.entries()].sort((a, b) => rank(a[0]) - rank(b[0])).forEach(([key, points]) => {
            const [state, rec] = key.split("|"), r = state === "sos" ? 8 : (state === "alarm" ? 6 : 5);
            ctx.beginPath();
            for (const p of points) { ctx.moveTo(p.x + r, p.y); ctx.arc(p.x, p.y, r, 0, 2 * Math.PI); }
            ctx.fillStyle = colors[state] || "#3a86ff"; ctx.fill();
            ctx.lineWidth = rec ? 2 : 1; ctx.strokeStyle = rec ? "#000000" : "#ffffff"; ctx.stroke();
        });
        const sel = lg.selected !== undefined ? lg.live.get(lg.selected) : null;
        if (sel) {
            const p = map.latLngToContainerPoint([sel.lat, sel.lon]);
            ctx.beginPath(); ctx.arc(p.x, p.y, 11, 0, 2 * Math.PI);
            ctx.lineWidth = 3; ctx.strokeStyle = colors.selected || "#3a86ff"; ctx.stroke();
        }
    },
});

window.lawgrid.captureMap = function (e) {
    const lg = window.lawgrid;
    lg.watchTiles(e);
    if (lg.map === e.target) { return; }
    lg.map = e.target;
    lg.map.createPane("livePane").style.zIndex = 640;  // above the target bubbles (600)
    lg.dots = new lg.LiveDots().addTo(lg.map);
    lg.map.on("click", lg.pickNearest);
    lg.live = new Map();
    (lg.pendingRows || []).forEach(rows => lg.applyRows(rows));
    lg.pendingRows = [];
};
window.lawgrid.applyRows = function (rows) {
    const lg = window.lawgrid;
    if (!lg.dots) { (lg.pendingRows = lg.pendingRows || []).push(rows); return 0; }
    const t0 = performance.now();
    for (const r of rows) {
        let d = lg.live.get(r[0]);
        if (!d) { d = {id: r[0], trail: []}; lg.live.set(r[0], d); }
        d.lat = r[1]; d.lon = r[2]; d.state = r[3];
        if (r[4] !== null && r[4] !== undefined) { d.recording = r[4]; }
        d.sos = r[5]; if (r[6]) { d.time = r[6]; }
        d.trail.push([r[1], r[2]]);
        if (d.trail.length > lg.TRAIL_POINTS) { d.trail.splice(0, d.trail.length - lg.TRAIL_POINTS); }
    }
    const sel = lg.selected !== undefined ? lg.live.get(lg.selected) : null;
    if (sel && lg.trailLine) {
        lg.trailLine.setLatLngs(sel.trail);
        if (lg.follow) { lg.map.panTo([sel.lat, sel.lon], {animate: false}); }
    }
    lg.dots.requestDraw();
    lg.lastApplyMs = performance.now() - t0;
    lg.batches = (lg.batches || 0) + 1;
    return rows.length;
};
// Whether a device's dot is on the canvas now (read back by the browser tests).
// The live layer's pixel at a device's position as [r, g, b, a] (null if not drawn): what an
// operator sees there, for the browser tests.
window.lawgrid.pixelAt = function (id) {
    const lg = window.lawgrid, d = lg.live.get(id), ratio = window.devicePixelRatio || 1;
    if (!d || !lg.dots) { return null; }
    lg.dots.draw();
    const p = lg.map.latLngToContainerPoint([d.lat, d.lon]);
    return Array.from(lg.dots._canvas.getContext("2d").getImageData(Math.round(p.x * ratio), Math.round(p.y * ratio), 1, 1).data);
};
window.lawgrid.painted = function (id) {
    const px = window.lawgrid.pixelAt(id);
    return Boolean(px && px[3] > 0);
};
window.lawgrid.pickNearest = function (e) {
    const lg = window.lawgrid, p = e.containerPoint;
    let best = null, bestPx = 10;
    lg.live.forEach(d => {
        const q = lg.map.latLngToContainerPoint([d.lat, d.lon]);
        const px = Math.hypot(q.x - p.x, q.y - p.y);
        if (px < bestPx) { best = d.id; bestPx = px; }
    });
    if (best !== null) { lg.select(best); }
};
window.lawgrid.select = function (id) {
    const lg = window.lawgrid;
    lg.selected = id;
    const d = lg.live.get(id);
    if (!lg.trailLine) {  // drawn only once someone is selected
        lg.trailLine = L.polyline([], {color: lg.liveColors.selected || "#3a86ff", weight: 3, opacity: 0.8}).addTo(lg.map);
    }
    lg.trailLine.setLatLngs(d ? d.trail : []);
    lg.dots.requestDraw();
    lg.describeSelected();
};
// The selected officer in words: name, unit, device kind and number, state, and how long
// ago the last fix came (kept current every second).
window.lawgrid.describeSelected = function () {
    const lg = window.lawgrid, el = document.getElementById("live-selected");
    if (!el || lg.selected === undefined) { return; }
    const d = lg.live.get(lg.selected), m = lg.meta[String(lg.selected)] || [];
    if (!d) { el.textContent = ""; return; }
    const state = d.state !== "offline" && lg.onTask.has(d.id) ? "task" : d.state;
    let ago = "";
    if (d.time) {
        const s = Math.max(0, Math.round((Date.now() - new Date(d.time).getTime()) / 1000));
        ago = s < 120 ? lg.t("js.ago").replace("{n}", s) : lg.t("js.ago_min").replace("{n}", Math.round(s / 60));
    }
    const parts = [m[0] || "#" + d.id, m[1], m[2] ? lg.t("js.kind." + m[2]) + " " + (m[3] || "") : "",
                   state ? lg.t("js.state." + state) : "", ago];
    el.textContent = parts.filter(Boolean).join(" · ");
};
setInterval(function () { window.lawgrid.describeSelected(); }, 1000);
Object.assign(window.dash_clientside.lawgrid, {
    applyPositions: function (rows) {
        if (!rows || !rows.length) { return window.dash_clientside.no_update; }
        return window.lawgrid.applyRows(rows);
    },
    setFollow: function (value) {
        window.lawgrid.follow = (value || []).includes("follow");
        return window.dash_clientside.no_update;
    },
    setOnTask: function (deviceIds) {
        const lg = window.lawgrid;
        lg.onTask = new Set(deviceIds || []);
        if (lg.dots) { lg.dots.requestDraw(); }
        return window.dash_clientside.no_update;
    },
});
