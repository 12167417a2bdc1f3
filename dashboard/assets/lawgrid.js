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
