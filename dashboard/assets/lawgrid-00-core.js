// LawGrid's browser code, one file per concern; Dash loads assets in name order, so this
// file (00) makes the namespaces the others fill:
//   01-styles   dash-leaflet style and point functions (township, coverage, targets, heat)
//   02-live     the live layer: Socket.IO batches -> records -> one canvas, selection, trail
//   03-basemap  GCJ-02 alignment of tile layers on every page's map
//   04-map      the command map's clientside callbacks (viewport URL, cell zoom, alarms)
//   05-replay   track replay's clock
//   06-dispatch the dispatcher page's markers and due-time countdowns
// Words shown to people come from dashboard/i18n.py (keys js.*), written into the page as
// <div id="lg-i18n" data-strings=...>, in the page's language: lawgrid.t(key).
window.lawgrid = Object.assign({}, window.lawgrid);
window.dash_clientside = Object.assign({}, window.dash_clientside);
window.dash_clientside.lawgrid = Object.assign({}, window.dash_clientside.lawgrid);

// The page's language: the shell's "lang" store (localStorage), Chinese by default.
window.lawgrid.lang = function () {
    try { return JSON.parse(localStorage.getItem("lang") || '"zh"') === "en" ? "en" : "zh"; }
    catch (e) { return "zh"; }
};
window.lawgrid.t = function (key) {
    const lg = window.lawgrid;
    if (!lg.strings) {
        const el = document.getElementById("lg-i18n");
        if (!el) { return key; }
        lg.strings = JSON.parse(el.dataset.strings || "{}");
    }
    const lang = lg.lang();
    return (lg.strings[lang] || {})[key] || (lg.strings.zh || {})[key] || key;
};

// The page says when its Socket.IO connection is up (tests and people can wait on it):
// <body data-live-socket="connected">.
Object.assign(window.dash_clientside.lawgrid, {
    socketState: function (connected) {
        document.body.dataset.liveSocket = connected ? "connected" : "waiting";
        return window.dash_clientside.no_update;
    },
});
