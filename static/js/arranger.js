// The arranger's preview: the lane's regions played in order with Web Audio, each overlapping the
// one before by its crossfade on equal-power curves, as the render mixes them (without the
// loudness matching, which the render does). Nothing polls; the audio comes from the song URLs.

const CURVE = 64;

function curve(rising) {
  const values = new Float32Array(CURVE);
  for (let i = 0; i < CURVE; i++) {
    const angle = (i / (CURVE - 1)) * Math.PI / 2;
    values[i] = rising ? Math.sin(angle) : Math.cos(angle);
  }
  return values;
}

function regions() {
  return [...document.querySelectorAll("[data-region]")].map((li) => ({
    url: li.dataset.audio,
    start: Number(li.dataset.start),
    end: Number(li.dataset.end),
    crossfade: Number(li.dataset.crossfade),
  }));
}

async function load(context, lane) {
  const buffers = new Map();
  for (const region of lane) {
    if (!buffers.has(region.url)) {
      const response = await fetch(region.url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`could not load a song (${response.status})`);
      buffers.set(region.url, await context.decodeAudioData(await response.arrayBuffer()));
    }
  }
  return buffers;
}

function schedule(context, lane, buffers) {
  let at = context.currentTime + 0.1;
  const sources = [];
  lane.forEach((region, index) => {
    const length = region.end - region.start;
    const next = lane[index + 1];
    const fadeIn = index ? region.crossfade : 0;
    const fadeOut = next ? next.crossfade : 0;
    if (index) at -= fadeIn;
    const source = context.createBufferSource();
    const gain = context.createGain();
    source.buffer = buffers.get(region.url);
    source.connect(gain).connect(context.destination);
    if (fadeIn > 0) gain.gain.setValueCurveAtTime(curve(true), at, fadeIn);
    if (fadeOut > 0) gain.gain.setValueCurveAtTime(curve(false), at + length - fadeOut, fadeOut);
    source.start(at, region.start, length);
    sources.push(source);
    at += length;
  });
  return { sources, ends: at };
}

function setUp() {
  const play = document.querySelector("[data-preview]");
  const stop = document.querySelector("[data-stop]");
  const status = document.querySelector("[data-preview-status]");
  if (!play) return;
  let context = null;
  const halt = () => {
    if (context) context.close();
    context = null;
    stop.hidden = true;
    play.disabled = false;
  };
  stop.addEventListener("click", () => { halt(); status.textContent = "Stopped."; });
  play.addEventListener("click", async () => {
    halt();
    play.disabled = true;
    context = new AudioContext();
    const mine = context;
    status.textContent = "Loading the songs…";
    try {
      const lane = regions();
      const buffers = await load(mine, lane);
      if (context !== mine) return;
      const { sources } = schedule(mine, lane, buffers);
      sources[sources.length - 1].addEventListener("ended", () => {
        if (context === mine) { halt(); status.textContent = "Preview finished."; }
      });
      stop.hidden = false;
      status.textContent = "Playing the preview…";
    } catch (error) {
      halt();
      status.textContent = `The preview could not play: ${error.message}`;
    }
  });
}

setUp();
