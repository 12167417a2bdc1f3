// Track replay: the slider is the clock; the timer only advances it.
Object.assign(window.dash_clientside.lawgrid, {
    replayToggle: function (_clicks, disabled) {
        // playing: the button says 暂停 (pause); stopped: 播放 (play)
        const t = window.lawgrid.t;
        return [!disabled, disabled ? "lg-lang playing" : "lg-lang", t(disabled ? "js.replay.pause" : "js.replay.play")];
    },
    replayTick: function (_n, value, max, speed) {
        const next = Math.min((value || 0) + (speed || 1), max || 0);
        const ended = next >= (max || 0);
        const label = ended ? window.lawgrid.t("js.replay.play") : window.dash_clientside.no_update;
        return [next, ended, label];
    },
    replayShow: function (value, track) {
        if (!track || !track.length) { return window.dash_clientside.no_update; }
        const r = track[Math.min(value || 0, track.length - 1)];
        const speed = r[3] === null || r[3] === undefined ? "" : " · " + Math.round(r[3]) + " km/h";
        return [[r[0], r[1]], r[2] + speed];
    },
});
