// Styling functions for dash-leaflet layers, referenced from Python as
// {"variable": "lawgrid.<name>"}: Python sends the data once, the browser styles it.
Object.assign(window.lawgrid, {
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


// Targets layer: grid cells (properties.n) as count bubbles, targets as dots, coloured by
// (dominant) enforcement domain from the layer's hideout.
// Resolves once the targets layer has drawn its first answer (or after 5 s at the latest):
// what is not needed for a usable map (the chart, the devices' names) waits for it.
window.lawgrid.mapUp = new Promise(resolve => {
    window.lawgrid.markMapUp = () => setTimeout(resolve, 0);
    setTimeout(resolve, 5000);
});
window.lawgrid.targetPoint = function (feature, latlng, context) {
    window.lawgrid.markMapUp();
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

// Alarm heat grid: yellow to deep red by count relative to the busiest cell.
window.lawgrid.heatStyle = function (feature, context) {
    const max = (context.hideout || {}).max || 1;
    const f = Math.sqrt(feature.properties.n / max);
    const hue = Math.round(55 - 55 * f);
    return {fillColor: "hsl(" + hue + ", 95%, " + Math.round(55 - 15 * f) + "%)", fillOpacity: 0.35 + 0.45 * f,
            weight: 0, color: "transparent", className: "lg-heat"};
};
