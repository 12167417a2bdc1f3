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
