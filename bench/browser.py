"""Web app benchmark: what a person in a browser sees, and what the page costs.

It starts the whole local stack as ``make run`` does (default engine unless
``CAPTIONIST_TRANSCRIBE_LOCAL_ENGINE`` says otherwise) and opens two headless Chromium browsers
on the built web app: a speaker, whose fake microphone says the five LibriVox clips (1 s apart)
and who presses "Start speaking", and a listener on the conversation's shared link.

Each page records, with the wall clock (``performance.timeOrigin + performance.now()``), every
binary frame the page sends, every text frame it receives, and when each caption appears in the
page (a MutationObserver). The audio clock follows from the frames: frame k carries audio up to
(k + 1) * 0.1 s, so audio position e was captured by ``t0 + e`` with ``t0`` the smallest
``sent_k - (k + 1) * 0.1``. A partial or final whose ``end`` is e received at t is
``t - (t0 + e)`` late: capture, the worklet, the network, ingest, recognition, and for the
listener also the queue, the table and the broadcaster. Rendering is measured separately (the
caption in the page minus the message's arrival).

CPU is each browser's whole process tree (``/proc``) over the speaking time, in cores; memory is
the page's JavaScript heap (Chrome DevTools Protocol ``Performance.getMetrics``).

Results go to ``docs/benchmarks.md`` (section "Web app (browser)") and ``bench/.results/``.
``python -m bench.browser --quick`` speaks two clips and leaves the docs alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import itertools
import json
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, async_playwright

from bench.common import (
    RESULTS_DIR,
    ROOT,
    fmt,
    histogram_mean,
    run_header,
    save_results,
    scrape,
    summarize,
    user_system_seconds,
)
from bench.speech import SpeechStack, default_engine, start_stack
from captionist_dev.browser import CHROMIUM, HEADLESS_ARGS, microphone_saying
from captionist_dev.speech import in_turn, librivox_clips, word_error_rate, write_wav

SECTION = "## Web app (browser)"
CHUNK_SECONDS = 0.1
SETTLE_SECONDS = 6.0
WEB_DIST = ROOT / "web" / "dist"
# transcribe-local's time from an utterance's end being decided to its final decode being ready.
DECODE_METRIC = "captionist_transcribe_local_deferred_seconds"

# Installed before the app's own scripts: wraps WebSocket to timestamp frames, and watches the
# captions appear.
RECORDER = """(() => {
  const now = () => performance.timeOrigin + performance.now();
  const log = (window.captionistBench = { sent: [], received: [], rendered: [], partials: [] });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data !== "string") log.sent.push(now());
    return send.call(this, data);
  };
  const Native = window.WebSocket;
  function Recorded(url, protocols) {
    const socket = new Native(url, protocols);
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") log.received.push([now(), String(url), event.data]);
    });
    return socket;
  }
  Recorded.prototype = Native.prototype;
  for (const key of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recorded[key] = Native[key];
  window.WebSocket = Recorded;
  new MutationObserver((mutations) => {
    const at = now();
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (node.nodeType === 1 && node.matches("li.segment")) {
          log.rendered.push([at, node.dataset.cursor]);
        }
      }
    }
  }).observe(document, { childList: true, subtree: true });
})();"""


def process_tree_seconds(root_marker: str) -> float:
    """CPU seconds so far of the process whose command line holds ``root_marker``, and its
    descendants (a browser: its renderer, GPU, audio and network processes)."""
    parents: dict[int, int] = {}
    roots: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            if root_marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                roots.append(int(entry.name))
    tree = set(roots)
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    total = 0.0
    for pid in tree:
        with contextlib.suppress(OSError):
            total += sum(user_system_seconds(pid))
    return total


async def heap_mib(page: Page) -> float:
    """The page's JavaScript heap in use, MiB."""
    session = await page.context.new_cdp_session(page)
    await session.send("Performance.enable")
    metrics = (await session.send("Performance.getMetrics"))["metrics"]
    used = next(float(m["value"]) for m in metrics if m["name"] == "JSHeapUsedSize")
    return round(used / 2**20, 1)


@contextlib.asynccontextmanager
async def chromium(*extra: str) -> AsyncIterator[Browser]:
    """Debian's headless Chromium with ``extra`` flags."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*HEADLESS_ARGS, *extra]
        )
        try:
            yield browser
        finally:
            await browser.close()


def latencies(log: dict[str, Any], t0: float, kind: str) -> list[float]:
    """Seconds from audio capture to arrival of each ``kind`` message (partials: when they grew)."""
    found: list[float] = []
    last_text: dict[str, str] = {}
    for at, _url, data in log["received"]:
        message = json.loads(data)
        if kind == "partial" and message.get("type") == "partial":
            grew = len(message["text"]) > len(last_text.get(message["resultId"], ""))
            last_text[message["resultId"]] = message["text"]
            if grew:
                found.append(at / 1000 - (t0 + message["end"]))
        elif kind == "final" and message.get("type") == "final":
            found.append(at / 1000 - (t0 + message["segment"]["end"]))
        elif kind == "segments" and message.get("type") in ("snapshot", "segments"):
            found += [at / 1000 - (t0 + segment["end"]) for segment in message["segments"]]
    return found


def render_delays(log: dict[str, Any]) -> list[float]:
    """Seconds from a segment's message arriving to its caption being in the page."""
    arrived: dict[str, float] = {}
    for at, _url, data in log["received"]:
        message = json.loads(data)
        for segment in message.get("segments", []):
            arrived.setdefault(segment["cursor"], at)
    return [(at - arrived[cursor]) / 1000 for at, cursor in log["rendered"] if cursor in arrived]


def audio_clock(sent: list[float]) -> float:
    """``t0``: the wall-clock second at which audio position 0 was captured."""
    return min(at / 1000 - (index + 1) * CHUNK_SECONDS for index, at in enumerate(sent))


def ms(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99/max/mean in milliseconds."""
    return summarize([round(value * 1000, 1) for value in values])


async def run_once(
    gateway: str, wav: Path, seconds: float, references: list[str]
) -> dict[str, Any]:
    """One conversation: the speaker says ``wav``, the listener follows; the measurements."""
    conversation = f"bench{uuid.uuid4().hex[:10]}"
    link = f"{gateway}/?conversation={conversation}"
    marker = f"--use-file-for-fake-audio-capture={wav}"
    async with chromium(*microphone_saying(wav)) as speaking, chromium() as listening:
        speaker = await speaking.new_page()
        listener = await listening.new_page()
        for page in (speaker, listener):
            await page.add_init_script(RECORDER)
            await page.goto(link)
            await page.locator('#listener-status[data-state="live"]').wait_for(timeout=15_000)
        await speaker.get_by_label("Your name").fill("Reader")
        cpu_before = process_tree_seconds(marker)
        started = time.monotonic()
        await speaker.get_by_role("button", name="Start speaking").click()
        await asyncio.sleep(seconds)
        await speaker.get_by_role("button", name="Stop speaking").click()
        await speaker.locator('#speaker-status[data-state="ended"]').wait_for(timeout=30_000)
        speaking_seconds = time.monotonic() - started
        cpu_speaker = process_tree_seconds(marker) - cpu_before
        await asyncio.sleep(SETTLE_SECONDS)
        heaps = {"speaker": await heap_mib(speaker), "listener": await heap_mib(listener)}
        speaker_log = await speaker.evaluate("window.captionistBench")
        listener_log = await listener.evaluate("window.captionistBench")
        shown = await listener.locator("#segments li.segment .text").all_text_contents()
    sent = speaker_log["sent"]
    t0 = audio_clock(sent)
    gaps = [(b - a) / 1000 for a, b in itertools.pairwise(sent)]
    return {
        "conversation": conversation,
        "audio_seconds_sent": round(len(sent) * CHUNK_SECONDS, 1),
        "chunk_interval_ms": ms(gaps),
        "partial": latencies(speaker_log, t0, "partial"),
        "final_speaker": latencies(speaker_log, t0, "final"),
        "final_listener": latencies(listener_log, t0, "segments"),
        "render_listener": render_delays(listener_log),
        "segments_shown": len(shown),
        "wer": round(word_error_rate(references, shown), 3),
        "speaker_cores": round(cpu_speaker / speaking_seconds, 3),
        "heap_mib": heaps,
    }


async def run_client(gateway: str, pcm: bytes, references: list[str]) -> dict[str, Any]:
    """The same speech from a program instead of a browser: 100 ms chunks, each sent as soon as
    its audio would have been captured, and a listener on the same conversation."""
    conversation = f"bench{uuid.uuid4().hex[:10]}"
    base = gateway.replace("http", "ws", 1) + "/api/stt"
    log: dict[str, Any] = {"received": []}
    listener_log: dict[str, Any] = {"received": []}
    chunk = int(CHUNK_SECONDS * 32_000)

    async def record(ws: aiohttp.ClientWebSocketResponse, into: dict[str, Any]) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                into["received"].append([time.time() * 1000, "", message.data])

    async with aiohttp.ClientSession() as http:
        listener = await http.ws_connect(f"{base}/connect?conversation={conversation}")
        following = asyncio.create_task(record(listener, listener_log))
        query = f"sampleRate=16000&conversation={conversation}&speaker=Reader"
        async with http.ws_connect(f"{base}/transcribe?{query}") as speaker:
            reading = asyncio.create_task(record(speaker, log))
            t0 = time.time()
            for index in range(0, len(pcm), chunk):
                captured = t0 + (index + chunk) / 32_000
                await asyncio.sleep(max(0.0, captured - time.time()))
                await speaker.send_bytes(pcm[index : index + chunk])
            await speaker.send_str(json.dumps({"type": "end"}))
            await reading
        await asyncio.sleep(SETTLE_SECONDS)
        await listener.close()
        await following
    said = [
        segment["text"]
        for _at, _url, data in listener_log["received"]
        for segment in json.loads(data).get("segments", [])
    ]
    return {
        "partial": latencies(log, t0, "partial"),
        "final_speaker": latencies(log, t0, "final"),
        "final_listener": latencies(listener_log, t0, "segments"),
        "wer": round(word_error_rate(references, said), 3),
    }


def bundle() -> dict[str, float]:
    """Size of the built app's JavaScript and CSS, raw and gzipped, KiB."""
    files = [*WEB_DIST.glob("assets/*.js"), *WEB_DIST.glob("assets/*.css")]
    raw = sum(path.stat().st_size for path in files)
    packed = sum(len(gzip.compress(path.read_bytes())) for path in files)
    return {"kib": round(raw / 1024, 1), "gzip_kib": round(packed / 1024, 1)}


def render_section(result: dict[str, Any]) -> str:
    """The docs/benchmarks.md section."""
    total = result["total"]
    m = result["machine"]
    client = result["client"]
    rows = [
        ("partial caption at the speaker", total["partial"], client["partial"]),
        ("final at the speaker", total["final_speaker"], client["final_speaker"]),
        ("final at the listener", total["final_listener"], client["final_listener"]),
    ]
    table = "\n".join(
        f"| {name} | {fmt(v['p50'])} / {fmt(v['p95'])} | {fmt(v['max'])}"
        f" | {fmt(c['p50'])} / {fmt(c['p95'])} |"
        for name, v, c in rows
    )
    render = total["render_listener"]
    chunks = total["chunk_interval_ms"]
    runs = result["runs"]
    return f"""{SECTION}

`python -m bench.browser` (commit {result["commit"]}, {result["date"]}; {len(runs)} runs): the
whole local stack (engine `{result["engine"]}`) and two headless Chromium browsers on the built
web app. A speaker's fake microphone says the five LibriVox clips, 1 s apart
({result["audio_seconds"]:.0f} s), after "Start speaking"; a listener follows the shared link.
Machine: {m["cpu"]}, {m["cores"]} cores, shared by the stack and both browsers.

Latency runs from the moment the audio was captured (the page's own audio clock: frame k carries
audio up to (k + 1) * 100 ms) to the caption's message arriving in the page. For comparison, a
program (no browser) streams the same recording in 100 ms chunks, each sent the moment its audio
would have been captured, timed the same way:

| ms | browser p50 / p95 | browser max | program p50 / p95 |
|---|---:|---:|---:|
{table}

- What the browser adds: about {fmt(total["partial"]["p50"] - client["partial"]["p50"])} ms to
  partials (p50), nothing measurable to finals. A segment's message becomes a caption in the
  listener's page within {fmt(render["p50"], 1)} ms (p50; p95 {fmt(render["p95"], 1)} ms).
- Audio left the speaker's page every {fmt(chunks["p50"])} ms (p95 {fmt(chunks["p95"])} ms, max
  {fmt(chunks["max"])} ms): {", ".join(f"{run['audio_seconds_sent']:.1f} s" for run in runs)} sent
  for {result["audio_seconds"]:.1f} s played.
- Word error rate at the listener: {", ".join(f"{run['wer'] * 100:.1f} %" for run in runs)}
  ({", ".join(str(run["segments_shown"]) for run in runs)} segments); the program's:
  {client["wer"] * 100:.1f} %.
- Finals are later here than in the Speech section (p50 1,056 ms at the listener) for two reasons
  that have nothing to do with the browser. That section sends each chunk as its audio starts,
  100 ms before a microphone could, and says each sentence alone in its session. Here speech goes
  on 1 s after each sentence, most likely slowing the final's Whisper decode with the next
  sentence's recognition on the same 2 cores (one diagnostic run, one program, the same clips:
  1.0-1.3 s alone, 1.3-1.7 s in continuous speech). The decodes took
  {fmt(client["decode_ms_mean"])} ms on average for the program and
  {", ".join(fmt(run["decode_ms_mean"]) for run in runs)} ms in the browser runs (waiting for the
  decoding thread included).
- The speaker's browser, all its processes (the renderer with the AudioWorklet, audio, network,
  GPU): {", ".join(f"{run['speaker_cores']:.2f}" for run in runs)} of a core while speaking.
- JavaScript heap after the conversation: speaker
  {", ".join(f"{run['heap_mib']['speaker']:.1f}" for run in runs)} MiB, listener
  {", ".join(f"{run['heap_mib']['listener']:.1f}" for run in runs)} MiB.
- The built app: {result["bundle"]["kib"]:.0f} KiB of JavaScript and CSS,
  {result["bundle"]["gzip_kib"]:.0f} KiB gzipped; the AudioWorklet is
  {result["worklet_kib"]:.1f} KiB of it.
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__)
    parser.add_argument("--runs", type=int, default=2, help="conversations to measure")
    parser.add_argument("--quick", action="store_true", help="two clips, one run, no docs")
    return parser.parse_args(argv)


async def measure(args: argparse.Namespace, stack: SpeechStack, folder: Path) -> dict[str, Any]:
    clips = librivox_clips()[: 2 if args.quick else None]
    pcm = in_turn(clips)
    wav = write_wav(folder / "librivox.wav", pcm)
    seconds = len(pcm) / 32_000
    references = [clip.text for clip in clips]
    print(f"  a program speaking: {seconds:.1f} s of speech", flush=True)
    before = scrape(stack.ports["transcribe"])
    client = await run_client(stack.gateway, pcm, references)
    decode = histogram_mean(before, scrape(stack.ports["transcribe"]), DECODE_METRIC)
    client["decode_ms_mean"] = None if decode is None else round(decode * 1000)
    for key in ("partial", "final_speaker", "final_listener"):
        client[key] = ms(client[key])
    runs = []
    for index in range(1 if args.quick else args.runs):
        print(f"  run {index + 1}: {seconds:.1f} s of speech", flush=True)
        before = scrape(stack.ports["transcribe"])
        run = await run_once(stack.gateway, wav, seconds, references)
        after = scrape(stack.ports["transcribe"])
        decode = histogram_mean(before, after, DECODE_METRIC)
        run["decode_ms_mean"] = None if decode is None else round(decode * 1000)
        runs.append(run)
    total = {
        key: ms([value for run in runs for value in run[key]])
        for key in ("partial", "final_speaker", "final_listener", "render_listener")
    }
    total["chunk_interval_ms"] = runs[0]["chunk_interval_ms"]
    for run in runs:
        for key in ("partial", "final_speaker", "final_listener", "render_listener"):
            run[key] = ms(run[key])
    return {"audio_seconds": round(seconds, 1), "runs": runs, "total": total, "client": client}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (WEB_DIST / "index.html").exists():
        print("web/dist is missing: run `make web` first", file=sys.stderr)
        return 1
    engine = default_engine()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        stack = start_stack(engine, Path(folder) / "stack.log")
        try:
            measured = asyncio.run(measure(args, stack, Path(folder)))
        finally:
            stack.stop()
    worklet = next(WEB_DIST.glob("assets/capture-processor-*.js"))
    result = {
        **run_header("browser", argv),
        "engine": engine,
        "bundle": bundle(),
        "worklet_kib": round(worklet.stat().st_size / 1024, 1),
        **measured,
    }
    name = "browser-quick" if args.quick else "browser"
    print(json.dumps(result["total"], indent=2))
    save_results(name, result, None if args.quick else (SECTION, render_section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
