"""A workshop room: 30 raters in one headless Chromium vote through the /rate door at once.

The app runs in its own process exactly as launcher.py mounts it (both doors, one process,
one SQLite file), on the fake backend with an evaluation generated before the room opens, so
only joining and voting are timed. Each of 30 browser contexts opens /rate?code=..., joins under
its own name and votes on every battle through the page. Printed: votes cast and stored (lost,
doubled), p50/p95 seconds from a click on "Next battle" to the next battle on screen (and from
a vote's click to its acknowledgement), and the app process's peak memory (RSS).
Goal: 0 lost, 0 doubled, p95 < 1 s.

Where the time goes is printed too, because on a 2-core machine the 30 browser pages share the
app's cores: the CPU seconds the app and Chromium each used during the room, the app's CPU per
request, and the cores the loaded pages use while nobody clicks (their floor). ``--think S``
gives each rater a reading time before each vote (uniform in 0.5–1.5 × S), as people read two
answers before choosing; the default 0 is the stress case, every rater clicking at once.

    .venv/bin/python benchmarks/workshop_room.py [--raters 30] [--prompts 6] [--think 0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
FLAGS += ["--disable-sync", "--no-first-run", "--disable-quic", "--disable-renderer-backgrounding"]
CHOICES = ("#arena-vote-a", "#arena-vote-b", "#arena-vote-tie", "#arena-vote-bothbad")


# ---- the app process ----------------------------------------------------------------------
def serve_app(home: Path, port: int, prompts: int) -> None:
    """In the child: prepare the evaluation, then serve both doors until killed."""
    from components.doors import mount_doors, serve
    from playground.models.fake import fake_backends
    from playground.services import Services
    from playground.settings import Settings
    from playground.startup import DoorLogins
    from tests.e2e.arena_doors import anonymous_answer, prepare

    settings = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}")
    services = Services.create(settings, backends=fake_backends(anonymous_answer))
    texts = [f"Question {i}: name something that is {c}." for i, c in enumerate(["red", "round", "loud"] * 9)]
    _, code = prepare(services, "workshop", texts[:prompts], repeat_fraction=0.1)
    doors = mount_doors(services, DoorLogins(admin=[("admin", "bench")], rater=None), host="127.0.0.1", port=port)
    serve(doors, host="127.0.0.1", port=port)
    (home / "code.txt").write_text(code)
    while True:
        time.sleep(1)


def start_app(work: Path, prompts: int) -> tuple[subprocess.Popen, str, str]:
    from tests.e2e.app_process import free_port

    home, port = work / "home", free_port()
    log = (work / "app.log").open("w")
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(home), str(port), str(prompts)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    deadline = time.monotonic() + 600  # a busy 2-core machine builds both doors slowly
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError((work / "app.log").read_text()[-3000:])
        if (home / "code.txt").exists():
            url = f"http://127.0.0.1:{port}/rate/"
            if httpx.get(url, timeout=5).status_code == 200:
                return child, url, (home / "code.txt").read_text()
        time.sleep(0.3)
    child.kill()
    raise RuntimeError("the app did not start")


class CpuSeconds:
    """CPU seconds used by the app process and by Chromium's processes since ``start``. Chromium
    starts and ends processes as contexts come and go, so each is sampled while it lives."""

    def __init__(self, app_pid: int):
        self.app_pid, self.first, self.last = app_pid, {}, {}

    def _kind(self, process: psutil.Process) -> str | None:
        if process.pid == self.app_pid:
            return "app"
        name = process.info["name"] or ""
        return "chromium" if "chrom" in name or "headless_shell" in name else None

    def sample(self) -> None:
        for process in psutil.process_iter(["name"]):
            try:
                kind = self._kind(process)
                if kind:
                    used = sum(process.cpu_times()[:2])
                    self.first.setdefault((kind, process.pid), used)
                    self.last[(kind, process.pid)] = used
            except psutil.Error:
                continue

    def used(self) -> dict[str, float]:
        totals = {"app": 0.0, "chromium": 0.0}
        for key, used in self.last.items():
            totals[key[0]] += used - self.first[key]
        return totals

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            await asyncio.sleep(0.5)
        self.sample()


class PeakMemory:
    """The app process's resident memory, sampled every 100 ms."""

    def __init__(self, pid: int):
        self.process, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.1)

    def __enter__(self) -> PeakMemory:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join()


# ---- the raters ---------------------------------------------------------------------------
async def one_rater(
    browser, url: str, code: str, i: int, loading: asyncio.Semaphore, start: asyncio.Event, out: dict
) -> None:
    reading = random.Random(i)
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(120_000)  # a busy machine: a slow answer is measured, not an error
    page = await context.new_page()
    page.on("requestfinished", lambda request: _server_time(request, out))
    status = page.locator("#arena-status")
    try:
        async with loading:  # pages load a few at a time (not timed): 30 at once starve 2 cores
            await page.goto(f"{url}?code={code}", wait_until="load", timeout=300_000)
            await page.locator("#arena-join-btn").wait_for(timeout=300_000)
        out["loaded"] += 1
        await start.wait()
        await page.locator("#arena-name textarea, #arena-name input").first.fill(f"rater {i:02d}")
        await page.locator("#arena-join-btn").click()
        await page.get_by_text("battle 1 of").wait_for(timeout=120_000)
        total = int((await status.inner_text()).rsplit(" of ", 1)[1].split()[0])
        for number in range(1, total + 1):
            if out["think"]:
                await asyncio.sleep(out["think"] * reading.uniform(0.5, 1.5))
            clicked = time.perf_counter()
            await page.locator(CHOICES[(i + number) % 4]).click()
            out["cast"][i] = out["cast"].get(i, 0) + 1  # cast once clicked, acknowledged or not
            if number == total:  # the last vote reveals the names and shows the rater's summary
                await page.locator("#arena-summary").get_by_text("Your votes").wait_for()
                out["ack"].append(time.perf_counter() - clicked)
                break
            await page.locator("#arena-reveal h3").get_by_text("Voted:").wait_for()
            out["ack"].append(time.perf_counter() - clicked)
            clicked = time.perf_counter()
            await page.locator("#arena-next").click()
            await page.get_by_text(f"battle {number + 1} of").wait_for()
            out["next"].append(time.perf_counter() - clicked)
    except Exception as err:  # noqa: BLE001 - counted and printed
        out["errors"].append(f"rater {i}: {type(err).__name__}: {str(err)[:200]}")
    finally:
        await context.close()


def _server_time(request, out: dict) -> None:
    """How long an event call took from the page's request to the last byte of the answer: the
    server's part of a click (the rest is the page drawing it)."""
    if request.method == "POST" and "/run/" in request.url and out.get("timing"):
        timing = request.timing
        if timing["responseEnd"] > 0:
            out["server"].append((timing["responseEnd"] - timing["requestStart"]) / 1000)


async def idle_floor(cpu: CpuSeconds, seconds: float = 10.0) -> float:
    """Cores the loaded pages (and the app) use while nobody clicks."""
    cpu.sample()
    before = cpu.used()
    await asyncio.sleep(seconds)
    cpu.sample()
    after = cpu.used()
    return (after["chromium"] - before["chromium"]) / seconds


async def room(url: str, code: str, raters: int, think: float, app_pid: int) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {"cast": {}, "ack": [], "next": [], "errors": [], "loaded": 0, "think": think}
    out |= {"server": [], "timing": False}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        start, loading = asyncio.Event(), asyncio.Semaphore(3)
        tasks = [asyncio.create_task(one_rater(browser, url, code, i, loading, start, out)) for i in range(raters)]
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and out["loaded"] + len(out["errors"]) < raters:
            await asyncio.sleep(0.2)
        cpu = CpuSeconds(app_pid)
        out["idle_cores"] = await idle_floor(cpu)
        print(f"{out['loaded']} pages loaded; every rater joins and votes now", flush=True)
        cpu = CpuSeconds(app_pid)
        cpu.sample()
        stop = asyncio.Event()
        watching = asyncio.create_task(cpu.watch(stop))
        began = time.perf_counter()
        out["timing"] = True
        start.set()
        await asyncio.gather(*tasks)
        out["wall"] = time.perf_counter() - began
        stop.set()
        await watching
        out["cpu"] = cpu.used()
        await browser.close()
    return out


def stored(home: Path) -> tuple[int, int, dict[str, int]]:
    db = sqlite3.connect(home / "playground.db")
    try:
        total = db.execute("SELECT COUNT(*) FROM arena_votes").fetchone()[0]
        doubled = db.execute(
            "SELECT COUNT(*) FROM (SELECT battle_id, rater_id FROM arena_votes GROUP BY 1, 2 HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        per = dict(
            db.execute(
                "SELECT r.name, COUNT(v.id) FROM arena_raters r LEFT JOIN arena_votes v ON v.rater_id = r.id GROUP BY r.id"
            ).fetchall()
        )
    finally:
        db.close()
    return total, doubled, per


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else (values[0] if values else 0.0)


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve_app(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--raters", type=int, default=30)
    parser.add_argument("--prompts", type=int, default=6)
    parser.add_argument("--think", type=float, default=0.0, help="mean reading time before each vote, in seconds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="workshop-room-"))
    child, url, code = start_app(work, args.prompts)
    try:
        with PeakMemory(child.pid) as memory:
            out = asyncio.run(room(url, code, args.raters, args.think, child.pid))
    finally:
        child.terminate()
        child.wait(timeout=20)
    total, doubled, per = stored(work / "home")
    cast = sum(out["cast"].values())
    lost = sum(max(0, n - per.get(f"rater {i:02d}", 0)) for i, n in out["cast"].items())
    print(
        f"raters: {args.raters} in one Chromium · votes cast: {cast} · stored: {total} · lost: {lost} · doubled: {doubled}"
    )
    print(
        f"wall time for the room: {out['wall']:.1f} s · reading time per vote: {args.think:g} s mean · errors: {len(out['errors'])}"
    )
    for line in out["errors"][:5]:
        print(f"  {line}")
    timed = (
        ("Next battle -> next battle on screen", out["next"]),
        ("vote -> vote saved", out["ack"]),
        ("the server's part (request -> whole answer)", out["server"]),
    )
    for label, values in timed:
        if values:
            print(f"{label}: p50 {pct(values, 50):.3f} s · p95 {pct(values, 95):.3f} s (n={len(values)})")
    print(f"app peak memory (RSS): {memory.peak / 2**20:.0f} MiB")
    requests = len(out["ack"]) + len(out["next"]) + len(out["cast"])  # votes, next battles, joins
    app_s, chromium_s = out["cpu"]["app"], out["cpu"]["chromium"]
    print(
        f"CPU during the room: app {app_s:.1f} s ({1000 * app_s / max(requests, 1):.0f} ms per request, "
        f"{requests} requests) · Chromium {chromium_s:.1f} s · {os.cpu_count()} cores x {out['wall']:.0f} s "
        f"= {os.cpu_count() * out['wall']:.0f} core-s"
    )
    print(f"the {out['loaded']} loaded pages use {out['idle_cores']:.2f} cores while nobody clicks")
    ok = lost == 0 and doubled == 0 and not out["errors"] and out["next"] and pct(out["next"], 95) < 1.0
    print(f"goal: 0 lost, 0 doubled, p95 < 1 s -> {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
