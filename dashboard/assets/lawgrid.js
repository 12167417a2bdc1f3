// Styling functions for dash-leaflet layers, referenced from Python as
// {"variable": "lawgrid.<name>"}: Python sends the data once, the browser styles it.
window.lawgrid = Object.assign({}, window.lawgrid, {
    townshipStyle: function (feature, context) {
        const h = context.hideout || {};
        const breaks = h.breaks || [];
        const colors = h.colors || ["#ccc"];
        const counts = h.counts;  // filtered counts by township code, when filters apply
        const value = counts ? (counts[feature.properties.code] || 0)
                             : (feature.properties[h.property || "targets"] || 0);
        let i = 0;
        while (i < breaks.length && value > breaks[i]) { i++; }
        return {
            fillColor: colors[Math.min(i, colors.length - 1)],
            fillOpacity: 0.75, color: "#ffffff", weight: 1.2,
            dashArray: feature.properties.approximate ? "4 3" : null,
        };
    },
    // 覆盖率 map: hideout.values by township code (a ratio, or a blind-spot count), classed by
    // hideout.breaks; the selected township is outlined rather than filtered away.
    valueStyle: function (feature, context) {
        const h = context.hideout || {};
        const breaks = h.breaks || [];
        const colors = h.colors || ["#ccc"];
        const value = (h.values || {})[feature.properties.code];
        let i = 0;
        while (i < breaks.length && value > breaks[i]) { i++; }
        const selected = h.selected === feature.properties.code;
        return {
            fillColor: value === null || value === undefined ? "#bbbbbb" : colors[Math.min(i, colors.length - 1)],
            fillOpacity: 0.8, color: selected ? "#ffd166" : "#ffffff", weight: selected ? 4 : 1.2,
            dashArray: feature.properties.approximate && !selected ? "4 3" : null,
        };
    },
});

// Live officers and cameras: Socket.IO batches of [id, lat, lon, state, recording, sos, time]
// update plain records; one canvas layer repaints them all at most once a frame. Nothing is
// re-rendered by React or sent by Python, so a batch of thousands costs a few milliseconds.
window.lawgrid.live = window.lawgrid.live || new Map();
window.lawgrid.liveColors = {online: "#2ca02c", task: "#7b2cbf", stale: "#ff9f1c", offline: "#8d99ae",
                             sos: "#d62828"};
window.lawgrid.stateNames = {online: "在线 online", task: "执行任务 on task", stale: "信号延迟 stale",
                             offline: "离线 offline"};
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
            const state = d.sos ? "sos" : (d.state !== "offline" && lg.onTask.has(d.id) ? "task" : d.state);
            const key = state + (d.recording === false ? "|rec-off" : "");
            let b = buckets.get(key);
            if (!b) { b = []; buckets.set(key, b); }
            b.push(p);
        });
        buckets.forEach((points, key) => {
            const [state, rec] = key.split("|"), r = state === "sos" ? 8 : 5;
            ctx.beginPath();
            for (const p of points) { ctx.moveTo(p.x + r, p.y); ctx.arc(p.x, p.y, r, 0, 2 * Math.PI); }
            ctx.fillStyle = colors[state] || "#3a86ff"; ctx.fill();
            ctx.lineWidth = rec ? 2 : 1; ctx.strokeStyle = rec ? "#000000" : "#ffffff"; ctx.stroke();
        });
        const sel = lg.selected !== undefined ? lg.live.get(lg.selected) : null;
        if (sel) {
            const p = map.latLngToContainerPoint([sel.lat, sel.lon]);
            ctx.beginPath(); ctx.arc(p.x, p.y, 11, 0, 2 * Math.PI);
            ctx.lineWidth = 3; ctx.strokeStyle = "#3a86ff"; ctx.stroke();
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
        lg.trailLine = L.polyline([], {color: "#3a86ff", weight: 3, opacity: 0.8}).addTo(lg.map);
    }
    lg.trailLine.setLatLngs(d ? d.trail : []);
    lg.dots.requestDraw();
    const el = document.getElementById("live-selected");
    const when = d && d.time ? new Date(d.time).toLocaleTimeString("zh-CN", {timeZone: "Asia/Shanghai", hour12: false}) : "";
    const state = d && d.state !== "offline" && lg.onTask.has(id) ? "task" : (d && d.state);
    if (el) { el.textContent = d ? "#" + id + " · " + (lg.stateNames[state] || state || "") + (when ? " · " + when : "") : ""; }
};
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    lawgrid: {
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
    },
});

// Targets layer: grid cells (properties.n) as count bubbles, targets as dots, coloured by
// (dominant) enforcement domain from the layer's hideout.
window.lawgrid.targetPoint = function (feature, latlng, context) {
    const p = feature.properties;
    const colors = (context.hideout || {}).colors || {};
    const color = colors[p.d] || "#3a86ff";
    if (p.n !== undefined) {
        const size = Math.round(18 + 7 * Math.log10(p.n));
        const label = p.n >= 10000 ? Math.round(p.n / 1000) + "k"
            : p.n >= 1000 ? (p.n / 1000).toFixed(1) + "k" : String(p.n);
        return L.marker(latlng, {icon: L.divIcon({
            className: "lg-cell", iconSize: [size, size],
            html: '<div style="background:' + color + ';width:' + size + 'px;height:' + size +
                  'px;line-height:' + size + 'px">' + label + "</div>"})});
    }
    return L.circleMarker(latlng, {radius: 6, color: "#ffffff", weight: 1, fillColor: color, fillOpacity: 0.9,
                                   className: "lg-target"});
};

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
    // A new alarm: a short tone and a banner (the panel itself is rendered by Python).
    alarmAlert: function (alarm) {
        if (!alarm) { return window.dash_clientside.no_update; }
        try {
            const ctx = new (window.AudioContext || window.webkitAudioContext)();
            const osc = ctx.createOscillator();
            osc.frequency.value = 880; osc.connect(ctx.destination);
            osc.start(); osc.stop(ctx.currentTime + 0.4);
        } catch (e) { /* no audio device: the banner still shows */ }
        window.lawgrid.alarmsSeen = (window.lawgrid.alarmsSeen || 0) + 1;
        return [String(alarm.kind || "").toUpperCase() + " · #" + alarm.device_id + " · " +
                (alarm.officer || ""), {display: alarm.status === "open" ? "block" : "none"}];
    },
    locateAlarm: function (clicks, alarms) {
        const trig = window.dash_clientside.callback_context.triggered_id;
        if (!trig || !clicks.some(Boolean)) { return window.dash_clientside.no_update; }
        const a = (alarms || []).find(x => x.id === trig.id);
        if (!a || a.lat === null) { return window.dash_clientside.no_update; }
        return {center: [a.lat, a.lon], zoom: 16, transition: "flyTo"};
    },
});

// Track replay: the slider is the clock; the timer only advances it.
Object.assign(window.dash_clientside.lawgrid, {
    replayToggle: function (_clicks, disabled) {
        return [!disabled, disabled ? "lg-lang playing" : "lg-lang"];
    },
    replayTick: function (_n, value, max, speed) {
        const next = Math.min((value || 0) + (speed || 1), max || 0);
        return [next, next >= (max || 0)];
    },
    replayShow: function (value, track) {
        if (!track || !track.length) { return window.dash_clientside.no_update; }
        const r = track[Math.min(value || 0, track.length - 1)];
        const speed = r[3] === null || r[3] === undefined ? "" : " · " + Math.round(r[3]) + " km/h";
        return [[r[0], r[1]], r[2] + speed];
    },
});

// Alarm heat grid: yellow to deep red by count relative to the busiest cell.
window.lawgrid.heatStyle = function (feature, context) {
    const max = (context.hideout || {}).max || 1;
    const f = Math.sqrt(feature.properties.n / max);
    const hue = Math.round(55 - 55 * f);
    return {fillColor: "hsl(" + hue + ", 95%, " + Math.round(55 - 15 * f) + "%)", fillOpacity: 0.35 + 0.45 * f,
            weight: 0, color: "transparent", className: "lg-heat"};
};

// GCJ-02 ("Mars") offsets, as geo/gcj02.py: a GCJ-02 base map is moved by the offset at the
// centre of the view so that it lines up with the WGS84 layers drawn over it.
window.lawgrid.wgs84ToGcj02 = function (lon, lat) {
    const a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI;
    const x = lon - 105.0, y = lat - 35.0;
    let dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
        + (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0
        + (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0
        + (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    let dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
        + (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0
        + (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0
        + (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    const radlat = lat / 180.0 * PI, magic = 1 - ee * Math.sin(radlat) ** 2, sqrtmagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * PI);
    dlon = (dlon * 180.0) / (a / sqrtmagic * Math.cos(radlat) * PI);
    return [lon + dlon, lat + dlat];
};
// Registered from a map's layeradd (dash-leaflet keeps moveend for its viewport tracking).
window.lawgrid.watchTiles = function (e) {
    const map = e.target;
    if (map._lawgridTiles) { return; }
    map._lawgridTiles = true;
    map.on("moveend zoomend", window.lawgrid.alignTiles);
    map.whenReady(() => window.lawgrid.alignTiles({target: map}));
};
window.lawgrid.alignTiles = function (e) {
    const map = e.target, pane = map.getPane("tilePane");
    if (!pane.querySelector(".lg-gcj02")) { return; }
    const c = map.getCenter(), g = window.lawgrid.wgs84ToGcj02(c.lng, c.lat);
    const pw = map.latLngToContainerPoint(c), pg = map.latLngToContainerPoint([g[1], g[0]]);
    // The imagery of a place sits where its GCJ-02 coordinates fall: move it back by the offset.
    pane.style.marginLeft = (pw.x - pg.x).toFixed(1) + "px";
    pane.style.marginTop = (pw.y - pg.y).toFixed(1) + "px";
};

// -- dispatcher page --------------------------------------------------------------------
window.lawgrid.statusColors = {created: "#d62828", declined: "#d62828", assigned: "#f77f00", accepted: "#fcbf49",
                               en_route: "#3a86ff", on_site: "#2ca02c"};
// Open tasks (p.status) and, for the selected task, its target (p.kind "target") and the
// candidate crews' officers (p.kind "officer", p.rank 1 = best crew).
window.lawgrid.dispatchPoint = function (feature, latlng) {
    const p = feature.properties;
    if (p.kind === "target") {
        return L.marker(latlng, {icon: L.divIcon({className: "lg-task-target", iconSize: [22, 22],
                                                  html: "<div>★</div>"})});
    }
    if (p.kind === "officer") {
        return L.circleMarker(latlng, {radius: p.rank === 1 ? 8 : 6, color: "#ffffff", weight: 2,
                                       fillColor: p.rank === 1 ? "#2ca02c" : "#6c757d", fillOpacity: 0.95,
                                       className: "lg-candidate"});
    }
    return L.circleMarker(latlng, {radius: 7, color: "#ffffff", weight: 1,
                                   fillColor: window.lawgrid.statusColors[p.status] || "#8d99ae",
                                   fillOpacity: 0.9, className: "lg-task lg-task-" + p.id});
};
window.lawgrid.dispatchStyle = function (feature) {
    const rank = feature.properties.rank;
    return {color: rank === 1 ? "#2ca02c" : "#6c757d", weight: rank === 1 ? 3 : 1.5, dashArray: rank === 1 ? null : "4 4"};
};

// Due-time countdowns: every element with data-due counts down each second, in the page's language.
window.lawgrid.tickDue = function () {
    const en = document.documentElement.lang === "en" || (localStorage.getItem("lang") || "").includes("en");
    document.querySelectorAll("[data-due]").forEach(function (el) {
        const left = Math.round((Date.parse(el.getAttribute("data-due")) - Date.now()) / 1000);
        const a = Math.abs(left), h = Math.floor(a / 3600), m = Math.floor((a % 3600) / 60), s = a % 60;
        const span = (h ? h + (en ? "h " : "小时") : "") + m + (en ? "m " : "分") + (h ? "" : s + (en ? "s" : "秒"));
        el.textContent = left >= 0 ? (en ? "due in " : "剩余 ") + span : (en ? "overdue " : "已超时 ") + span;
        el.classList.toggle("lg-overdue", left < 0);
        el.classList.toggle("lg-due-soon", left >= 0 && left < 3600);
    });
};
setInterval(window.lawgrid.tickDue, 1000);

// The page says when its Socket.IO connection is up (tests and people can wait on it):
// <body data-live-socket="connected">.
Object.assign(window.dash_clientside.lawgrid, {
    socketState: function (connected) {
        document.body.dataset.liveSocket = connected ? "connected" : "waiting";
        return window.dash_clientside.no_update;
    },
});
