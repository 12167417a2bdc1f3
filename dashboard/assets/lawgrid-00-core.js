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

// Dash's own component texts in the page's language: every drop-down on the page gets its
// labels (search, select all, counts, no options) from dashboard/i18n.py (js.dd.*). Pages
// render after the location changes, so this looks again for a moment until they are there.
Object.assign(window.dash_clientside.lawgrid, {
    translateComponents: function (lang) {
        // the page's language, for screen readers and the browser (WCAG 3.1.1)
        document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
        const lg = window.lawgrid, keys = ["select_all", "deselect_all", "selected_count", "search",
                                           "clear_search", "clear_selection", "no_options_found"];
        lg.t("js.dd.search");  // loads lg.strings
        const table = (lg.strings || {})[lang === "en" ? "en" : "zh"] || {}, labels = {};
        keys.forEach(k => { labels[k] = table["js.dd." + k] || k; });
        const done = new Set();
        let rounds = 0;
        const apply = function () {
            document.querySelectorAll(".dash-dropdown[id]").forEach(el => {
                if (done.has(el.id) || el.id.startsWith("{")) { return; }
                done.add(el.id);
                window.dash_clientside.set_props(el.id, {labels: labels});
            });
            if (++rounds < 20) { setTimeout(apply, 150); }
        };
        apply();
        return lang || "zh";
    },
});
