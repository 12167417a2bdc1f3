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
    window.lawgrid.maps = window.lawgrid.maps || {};
    window.lawgrid.maps[map.getContainer().id] = map;  // every page's map, by its component id
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
