"""A workshop room: 30 raters in one headless Chromium vote through the /rate door at once.

The app runs in its own process exactly as launcher.py mounts it (both doors, one process,
one SQLite file), on the fake backend with an evaluation generated before the room opens, so
only joining and voting are timed. Each of 30 browser contexts opens /rate?code=..., joins under
its own name and votes on every battle through the page. Printed: votes cast and stored (lost,
doubled), p50/p95 seconds from a click on "Next battle" to the next battle on screen (and from
a vote's click to its acknowledgement), and the app process's peak memory (RSS).
Goal: 0 lost, 0 doubled, p95 < 1 s.

    .venv/bin/python benchmarks/workshop_room.py [--raters 30] [--prompts 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(120_000)  # a busy machine: a slow answer is measured, not an error
    page = await context.new_page()
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


async def room(url: str, code: str, raters: int) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {"cast": {}, "ack": [], "next": [], "errors": [], "loaded": 0}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        start, loading = asyncio.Event(), asyncio.Semaphore(3)
        tasks = [asyncio.create_task(one_rater(browser, url, code, i, loading, start, out)) for i in range(raters)]
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and out["loaded"] + len(out["errors"]) < raters:
            await asyncio.sleep(0.2)
        print(f"{out['loaded']} pages loaded; every rater joins and votes now", flush=True)
        await asyncio.sleep(1)
        began = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        out["wall"] = time.perf_counter() - began
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
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="workshop-room-"))
    child, url, code = start_app(work, args.prompts)
    try:
        with PeakMemory(child.pid) as memory:
            out = asyncio.run(room(url, code, args.raters))
    finally:
        child.terminate()
        child.wait(timeout=20)
    total, doubled, per = stored(work / "home")
    cast = sum(out["cast"].values())
    lost = sum(max(0, n - per.get(f"rater {i:02d}", 0)) for i, n in out["cast"].items())
    print(
        f"raters: {args.raters} in one Chromium · votes cast: {cast} · stored: {total} · lost: {lost} · doubled: {doubled}"
    )
    print(f"wall time for the room: {out['wall']:.1f} s · errors: {len(out['errors'])}")
    for line in out["errors"][:5]:
        print(f"  {line}")
    for label, values in (("Next battle -> next battle on screen", out["next"]), ("vote -> vote saved", out["ack"])):
        if values:
            print(f"{label}: p50 {pct(values, 50):.3f} s · p95 {pct(values, 95):.3f} s (n={len(values)})")
    print(f"app peak memory (RSS): {memory.peak / 2**20:.0f} MiB")
    ok = lost == 0 and doubled == 0 and not out["errors"] and out["next"] and pct(out["next"], 95) < 1.0
    print(f"goal: 0 lost, 0 doubled, p95 < 1 s -> {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
