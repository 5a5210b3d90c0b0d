// The console's footage player: every frame is a JPEG HQ decrypts in memory. Play and pause, a frame back or on,
// seek with the slider, and speed; the next frame is asked for only when the last one has arrived.
(function () {
  "use strict";
  function setup(fig) {
    fig.dataset.ready = "1";
    var img = fig.querySelector("img"), range = fig.querySelector("input[type=range]");
    var out = fig.querySelector("output"), play = fig.querySelector("[data-act=play]");
    var speed = fig.querySelector("[data-act=speed]");
    var base = fig.dataset.base, total = parseInt(fig.dataset.frames, 10), fps = parseFloat(fig.dataset.fps) || 15;
    var at = 0, timer = null, loading = false;

    function show(n) {
      at = Math.max(0, Math.min(total - 1, n));
      range.value = String(at);
      out.textContent = (at + 1) + " / " + total;
      loading = true;
      img.src = base + at + ".jpg";
    }
    function stop() {
      if (timer) { clearInterval(timer); }
      timer = null;
      play.textContent = play.dataset.play;
      fig.classList.remove("playing");
    }
    function tick() {
      if (loading) { return; }
      if (at >= total - 1) { stop(); return; }
      show(at + 1);
    }
    function start() {
      if (timer) { clearInterval(timer); }
      timer = setInterval(tick, 1000 / (fps * parseFloat(speed.value)));
      play.textContent = play.dataset.pause;
      fig.classList.add("playing");
    }
    img.addEventListener("load", function () { loading = false; });
    img.addEventListener("error", function () { loading = false; stop(); });
    play.addEventListener("click", function () {
      if (timer) { stop(); return; }
      if (at >= total - 1) { show(0); }
      start();
    });
    fig.querySelector("[data-act=back]").addEventListener("click", function () { stop(); show(at - 1); });
    fig.querySelector("[data-act=fwd]").addEventListener("click", function () { stop(); show(at + 1); });
    range.addEventListener("input", function () { show(parseInt(range.value, 10)); });
    speed.addEventListener("change", function () { if (timer) { start(); } });
  }
  document.querySelectorAll("figure.player:not([data-ready])").forEach(setup);
})();
