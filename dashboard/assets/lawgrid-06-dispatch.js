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
    const t = window.lawgrid.t;
    document.querySelectorAll("[data-due]").forEach(function (el) {
        const left = Math.round((Date.parse(el.getAttribute("data-due")) - Date.now()) / 1000);
        const a = Math.abs(left), h = Math.floor(a / 3600), m = Math.floor((a % 3600) / 60), s = a % 60;
        const span = (h ? h + t("js.unit.h") : "") + m + t("js.unit.m") + (h ? "" : s + t("js.unit.s"));
        el.textContent = t(left >= 0 ? "js.due.in" : "js.due.over") + span;
        el.classList.toggle("lg-overdue", left < 0);
        el.classList.toggle("lg-due-soon", left >= 0 && left < 3600);
    });
};
setInterval(window.lawgrid.tickDue, 1000);
