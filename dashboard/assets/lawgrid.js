// Styling functions for dash-leaflet layers, referenced from Python as
// {"variable": "lawgrid.<name>"}: Python sends the data once, the browser styles it.
window.lawgrid = Object.assign({}, window.lawgrid, {
    townshipStyle: function (feature, context) {
        const h = context.hideout || {};
        const breaks = h.breaks || [];
        const colors = h.colors || ["#ccc"];
        const value = feature.properties[h.property || "targets"] || 0;
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
