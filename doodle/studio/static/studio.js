// doodle studio: the doodle is an array of label indices (one byte a pixel), drawn without anti-aliasing
// and shown through the palette; the server paints it and streams progress as server-sent events.
"use strict";

const $ = (id) => document.getElementById(id);
const canvas = $("doodle");
const context = canvas.getContext("2d");

const doodle = {
  width: 0, height: 0, labels: new Uint8Array(0),
  palette: [],          // [[r, g, b], ...]
  label: 0,             // the brush's label
  tool: "brush",
  undo: [], redo: [],   // snapshots: {width, height, labels}
};
let version = 0;        // bumps when another painting is opened (image cache-busting)
let events = null;      // the EventSource of the running paint

// ---- talking to the server -----------------------------------------------------------------------------

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (error) { /* not JSON */ }
  if (!response.ok) throw new Error((data && data.error) || `${response.status} ${response.statusText}`);
  return data;
}

function say(text, kind = "error") {
  const message = $("message");
  message.textContent = text;
  message.className = kind;
  message.hidden = !text;
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`${file.name}: could not be read`));
    reader.readAsDataURL(file);
  });
}

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

// ---- the doodle -----------------------------------------------------------------------------------------

function render() {
  const image = context.createImageData(doodle.width, doodle.height);
  const pixels = image.data;
  for (let i = 0; i < doodle.labels.length; i++) {
    const colour = doodle.palette[doodle.labels[i]] || [0, 0, 0];
    pixels[4 * i] = colour[0]; pixels[4 * i + 1] = colour[1]; pixels[4 * i + 2] = colour[2]; pixels[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  $("doodle-size").textContent = `${doodle.width}×${doodle.height}`;
  for (const id of ["result", "preview"]) $(id).style.aspectRatio = `${doodle.width} / ${doodle.height}`;
  $("undo").disabled = doodle.undo.length === 0;
  $("redo").disabled = doodle.redo.length === 0;
  schedulePreview();
}

// The live preview (with a trained painter): one request at a time; a change made meanwhile is
// rendered as soon as it returns, so the preview follows the brush without queueing up.
const preview = { enabled: false, busy: false, again: false, url: null };

function schedulePreview() {
  if (!preview.enabled || doodle.width === 0) return;
  if (preview.busy) { preview.again = true; return; }
  preview.busy = true; preview.again = false;
  const body = {
    width: doodle.width, height: doodle.height, labels: toBase64(doodle.labels),
    random_seed: Number($("seed").value) || 0,
  };
  fetch("/api/preview", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
    .then(async (response) => {
      if (!response.ok) throw new Error((await response.json()).error);
      if (preview.url) URL.revokeObjectURL(preview.url);
      preview.url = URL.createObjectURL(await response.blob());
      $("preview").src = preview.url;
    })
    .catch((error) => say(`live preview: ${error.message}`))
    .finally(() => { preview.busy = false; if (preview.again) schedulePreview(); });
}

function snapshot() {
  return { width: doodle.width, height: doodle.height, labels: doodle.labels.slice() };
}

function restore(saved) {
  doodle.width = saved.width; doodle.height = saved.height; doodle.labels = saved.labels;
  canvas.width = saved.width; canvas.height = saved.height;
  $("width").value = saved.width; $("height").value = saved.height;
  render();
}

function remember() {  // before every change: one undo step
  doodle.undo.push(snapshot());
  if (doodle.undo.length > 100) doodle.undo.shift();
  doodle.redo = [];
}

function setLabels(width, height, labels) {
  restore({ width, height, labels });
}

function stamp(x, y, label, radius) {
  const r = radius - 0.5, reach = Math.ceil(r);
  for (let dy = -reach; dy <= reach; dy++) {
    const row = y + dy;
    if (row < 0 || row >= doodle.height) continue;
    for (let dx = -reach; dx <= reach; dx++) {
      const column = x + dx;
      if (column < 0 || column >= doodle.width || dx * dx + dy * dy > r * r + 0.5) continue;
      doodle.labels[row * doodle.width + column] = label;
    }
  }
}

function line(from, to, label, radius) {
  const steps = Math.max(1, Math.ceil(Math.hypot(to.x - from.x, to.y - from.y) / Math.max(1, radius / 2)));
  for (let s = 0; s <= steps; s++) {
    stamp(Math.round(from.x + (to.x - from.x) * s / steps), Math.round(from.y + (to.y - from.y) * s / steps),
      label, radius);
  }
}

function fill(x, y, label) {
  const { width, height, labels } = doodle;
  const old = labels[y * width + x];
  if (old === label) return;
  const stack = [y * width + x];
  while (stack.length) {
    const i = stack.pop();
    if (labels[i] !== old) continue;
    labels[i] = label;
    const column = i % width;
    if (column > 0) stack.push(i - 1);
    if (column < width - 1) stack.push(i + 1);
    if (i >= width) stack.push(i - width);
    if (i < width * (height - 1)) stack.push(i + width);
  }
}

function resizeLabels(width, height) {  // nearest neighbour, as the server scales maps
  const labels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = Math.min(doodle.height - 1, Math.floor((y + 0.5) * doodle.height / height));
    for (let x = 0; x < width; x++) {
      labels[y * width + x] = doodle.labels[from * doodle.width + Math.min(doodle.width - 1, Math.floor((x + 0.5) * doodle.width / width))];
    }
  }
  return labels;
}

// ---- drawing with the mouse (or pen, or finger) ----------------------------------------------------------

let last = null;

function position(event) {
  const box = canvas.getBoundingClientRect();
  return {
    x: Math.min(doodle.width - 1, Math.max(0, Math.floor((event.clientX - box.left) * doodle.width / box.width))),
    y: Math.min(doodle.height - 1, Math.max(0, Math.floor((event.clientY - box.top) * doodle.height / box.height))),
  };
}

function brushLabel() {
  return doodle.tool === "eraser" ? Number($("eraser-label").value) : doodle.label;
}

canvas.addEventListener("pointerdown", (event) => {
  if (!doodle.labels.length) return;
  event.preventDefault();
  const point = position(event);
  remember();
  if (doodle.tool === "fill") {
    fill(point.x, point.y, doodle.label);
  } else {
    canvas.setPointerCapture(event.pointerId);
    stamp(point.x, point.y, brushLabel(), Number($("brush-size").value) / 2);
    last = point;
  }
  render();
});

canvas.addEventListener("pointermove", (event) => {
  if (!last) return;
  const point = position(event);
  line(last, point, brushLabel(), Number($("brush-size").value) / 2);
  last = point;
  render();
});

for (const name of ["pointerup", "pointercancel"]) canvas.addEventListener(name, () => { last = null; });

function chooseTool(tool) {
  doodle.tool = tool;
  for (const button of document.querySelectorAll(".tool")) button.classList.toggle("selected", button.dataset.tool === tool);
}

function chooseLabel(label) {
  doodle.label = label;
  document.querySelectorAll(".swatch").forEach((swatch, i) => swatch.classList.toggle("selected", i === label));
  if (doodle.tool === "eraser") chooseTool("brush");
}

document.querySelectorAll(".tool").forEach((button) => button.addEventListener("click", () => chooseTool(button.dataset.tool)));
$("brush-size").addEventListener("input", () => { $("brush-size-value").textContent = $("brush-size").value; });

function undo() {
  if (!doodle.undo.length) return;
  doodle.redo.push(snapshot());
  restore(doodle.undo.pop());
}

function redo() {
  if (!doodle.redo.length) return;
  doodle.undo.push(snapshot());
  restore(doodle.redo.pop());
}

$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);
document.addEventListener("keydown", (event) => {
  if (event.target.tagName === "INPUT") return;
  const key = event.key.toLowerCase();
  if ((event.ctrlKey || event.metaKey) && key === "z") { event.preventDefault(); event.shiftKey ? redo() : undo(); }
  else if ((event.ctrlKey || event.metaKey) && key === "y") { event.preventDefault(); redo(); }
  else if (key === "b") chooseTool("brush");
  else if (key === "f") chooseTool("fill");
  else if (key === "e") chooseTool("eraser");
});

// ---- starting points and sizes ---------------------------------------------------------------------------

function outputSize() {
  return { width: Number($("width").value), height: Number($("height").value) };
}

async function startFromMap() {
  const { width, height } = outputSize();
  const data = await api(`/api/labels?width=${width}&height=${height}`);
  remember();
  setLabels(data.width, data.height, fromBase64(data.labels));
}

$("start-map").addEventListener("click", () => startFromMap().catch((error) => say(error.message)));
$("start-flat").addEventListener("click", () => {
  const { width, height } = outputSize();
  remember();
  setLabels(width, height, new Uint8Array(width * height).fill(doodle.label));
});
$("map-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  try {
    const { width, height } = outputSize();
    const data = await api("/api/map", { name: file.name, image: await readFile(file), width, height });
    remember();
    setLabels(data.width, data.height, fromBase64(data.labels));
    say("");
  } catch (error) { say(error.message); }
});

function resizeDoodle() {
  const { width, height } = outputSize();
  if (!(width >= 16 && height >= 16 && width <= 2048 && height <= 2048)) { say("The size is 16 to 2048 pixels a side."); return; }
  if (width === doodle.width && height === doodle.height) return;
  remember();
  setLabels(width, height, resizeLabels(width, height));
}
$("width").addEventListener("change", resizeDoodle);
$("height").addEventListener("change", resizeDoodle);

$("download-doodle").addEventListener("click", () => { $("download-doodle").href = canvas.toDataURL("image/png"); });

// ---- the painting --------------------------------------------------------------------------------------

async function loadState(resetDoodle) {
  const state = await api("/api/state");
  const defaults = state.defaults;
  for (const [id, key] of [["iterations", "iterations"], ["style-weight", "style_weight"],
    ["semantic-weight", "semantic_weight"], ["position-guide", "position_guide"], ["seed", "random_seed"]]) {
    if ($(id).value === "") $(id).value = defaults[key];
  }
  preview.enabled = state.preview;
  $("preview-figure").hidden = !state.preview;
  const panels = ["painting-row", "toolbar", "settings", "work-row"];
  for (const id of panels) $(id).hidden = !state.painting;
  if (!state.painting) {
    say("Open a painting to start (Open another painting…, top right).", "info");
    $("open-painting").open = true;
    return state;
  }
  const painting = state.painting;
  const scaled = painting.scaled_from ? ` (scaled from ${painting.scaled_from[0]}×${painting.scaled_from[1]})` : "";
  $("painting-name").textContent =
    `${painting.name}, ${painting.width}×${painting.height}${scaled}, ${painting.palette.length} labels`;
  $("painting").src = `/api/painting.png?v=${version}`;
  $("painting-map").src = `/api/map.png?v=${version}`;
  doodle.palette = painting.palette.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
  const palette = $("palette"), eraser = $("eraser-label");
  palette.replaceChildren(); eraser.replaceChildren();
  painting.palette.forEach((hex, i) => {
    const swatch = document.createElement("button");
    swatch.className = "swatch";
    swatch.title = `label ${i + 1}: ${hex}`;
    swatch.dataset.label = i;
    swatch.innerHTML = `<span class="colour" style="background:${hex}"></span><img alt="" src="/api/swatch/${i}.png?v=${version}"><small>${hex}</small>`;
    swatch.addEventListener("click", () => chooseLabel(i));
    palette.append(swatch);
    eraser.append(new Option(`${i + 1}: ${hex}`, i));
  });
  chooseLabel(0);
  if (resetDoodle) {
    $("width").value = defaults.width; $("height").value = defaults.height;
    doodle.undo = []; doodle.redo = [];
    const { width, height } = outputSize();
    const data = await api(`/api/labels?width=${width}&height=${height}`);
    setLabels(data.width, data.height, fromBase64(data.labels));
  }
  if (state.busy && state.job) listen(state.job);
  return state;
}

$("open-painting-button").addEventListener("click", async () => {
  const file = $("painting-file").files[0], mapFile = $("painting-map-file").files[0];
  if (!file) { say("Choose a painting file first."); return; }
  const button = $("open-painting-button");
  button.disabled = true;
  say(mapFile ? "Opening…" : "Opening, and proposing a map (segment)…", "info");
  try {
    await api("/api/painting", {
      name: file.name, image: await readFile(file), map: mapFile ? await readFile(mapFile) : null,
      labels: Number($("segment-labels").value),
    });
    version += 1;
    $("width").value = ""; $("height").value = "";
    $("result").removeAttribute("src");
    $("download-result").hidden = true;
    await loadState(true);
    $("open-painting").open = false;
    say("");
  } catch (error) { say(error.message); }
  button.disabled = false;
});

// ---- painting ---------------------------------------------------------------------------------------------

function running(yes) {
  $("paint").disabled = yes;
  $("stop").disabled = !yes;
}

function listen(job) {
  if (events) events.close();
  running(true);
  events = new EventSource(`/api/jobs/${job}/events`);
  events.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "progress") {
      const done = (event.phase - 1 + event.iteration / event.iterations) / event.phases;
      $("progress").value = done;
      $("progress-text").textContent =
        `phase ${event.phase}/${event.phases} · ${event.iteration}/${event.iterations} · ${event.seconds} s`;
    } else if (event.type === "preview") {
      $("result").src = event.image;
    } else if (event.type === "started") {
      $("progress-text").textContent = "Starting…";
    } else {  // the end: done, stopped or error
      events.close(); events = null;
      running(false);
      if (event.type === "done") {
        const url = `${event.url}?t=${Date.now()}`;
        $("result").src = url;
        $("download-result").href = url;
        $("download-result").hidden = false;
        $("progress").value = 1;
        $("progress-text").textContent = `Painted in ${event.seconds} s.`;
        $("result").dataset.job = job;
        if (event.notes.length) say(event.notes.join(" "), "info");
      } else if (event.type === "stopped") {
        $("progress-text").textContent = "Stopped.";
      } else {
        $("progress-text").textContent = "Failed.";
        say(event.message);
      }
    }
  };
  events.onerror = () => {
    if (!events) return;
    events.close(); events = null;
    running(false);
    say("Lost the connection to the studio server.");
  };
}

$("paint").addEventListener("click", async () => {
  if (!doodle.labels.length) { say("Open a painting first."); return; }
  say("");
  try {
    const reply = await api("/api/paint", {
      width: doodle.width, height: doodle.height, labels: toBase64(doodle.labels),
      options: {
        iterations: $("iterations").value, style_weight: $("style-weight").value,
        semantic_weight: $("semantic-weight").value, position_guide: $("position-guide").value,
        random_seed: $("seed").value,
      },
    });
    $("download-result").hidden = true;
    listen(reply.job);
  } catch (error) { say(error.message); }
});

$("stop").addEventListener("click", () => api("/api/stop", {}).catch((error) => say(error.message)));

loadState(true).catch((error) => say(error.message));
$("seed").addEventListener("change", schedulePreview);
