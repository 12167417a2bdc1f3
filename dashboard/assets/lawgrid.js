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
});

// Live officers and cameras: Socket.IO batches of [id, lat, lon, state, recording, sos, time]
// are merged here, in the browser, into the layer's data; Python never re-sends the layer.
window.lawgrid.live = window.lawgrid.live || new Map();
window.lawgrid.liveColors = {online: "#2ca02c", stale: "#ff9f1c", offline: "#8d99ae", sos: "#d62828"};
window.lawgrid.livePoint = function (feature, latlng) {
    const p = feature.properties;
    const color = p.sos ? window.lawgrid.liveColors.sos : (window.lawgrid.liveColors[p.state] || "#3a86ff");
    return L.circleMarker(latlng, {radius: p.sos ? 7 : 4, color: p.recording === false ? "#000" : "#fff",
                                    weight: 1, fillColor: color, fillOpacity: 0.95});
};
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    lawgrid: {
        applyPositions: function (rows, current) {
            const live = window.lawgrid.live;
            if (live.size === 0 && current && current.features) {
                current.features.forEach(f => live.set(f.id, f));
            }
            if (!rows || !rows.length) { return window.dash_clientside.no_update; }
            const t0 = performance.now();
            for (const r of rows) {
                live.set(r[0], {type: "Feature", id: r[0],
                    geometry: {type: "Point", coordinates: [r[2], r[1]]},
                    properties: {state: r[3], recording: r[4], sos: r[5], time: r[6],
                                 tooltip: "#" + r[0] + " " + r[3]}});
            }
            window.lawgrid.lastApplyMs = performance.now() - t0;
            window.lawgrid.batches = (window.lawgrid.batches || 0) + 1;
            return {type: "FeatureCollection", features: Array.from(live.values())};
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
    targetsUrl: function (bounds, zoom, towns, domains, risks, q) {
        if (!bounds) { return window.dash_clientside.no_update; }
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
