"""Do Compare's columns really run side by side?

Two columns backed by two real ``llama_cpp.server`` processes on 127.0.0.1 (one thread
each, so two cores serve two columns). For each of N rounds: column A alone, column B
alone, then both together through CompareService. Ratio = wall time together / the slower
single column (1.0 = perfectly parallel, 2.0 = one after another). Goal: <= 1.2.

    .venv/bin/python benchmarks/compare_concurrency.py [--runs 5] [--max-tokens 96]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.compare.columns import ColumnConfig  # noqa: E402
from playground.models.embedded import smollm2_path  # noqa: E402
from playground.services import Services  # noqa: E402
from playground.settings import Settings  # noqa: E402
from tests.integration.servers import free_port, start_llama_cpp_server, stop_process  # noqa: E402

PROMPT = "Write a short paragraph about lighthouses."


def timed_turn(services: Services, columns: list[ColumnConfig]) -> tuple[float, list[int]]:
    run_id, text = services.compare.start_run(columns, PROMPT)
    started = time.perf_counter()
    *_, final = services.compare.stream_turn(run_id, columns, [[] for _ in columns], text)
    elapsed = time.perf_counter() - started
    if any(s.status != "ok" for s in final):
        raise RuntimeError(f"a column failed: {[s.error for s in final]}")
    return elapsed, [s.usage.completion_tokens for s in final]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="compare-bench-"))
    servers = [start_llama_cpp_server(smollm2_path(), free_port(), log_dir=work, n_threads=1) for _ in range(2)]
    services = Services.create(Settings(home=work / "home", database_url=f"sqlite:///{work / 'bench.db'}"))
    try:
        keys = [
            services.models.add_endpoint(f"server {i + 1}", url, "smollm2").key for i, (_, url) in enumerate(servers)
        ]
        columns = [ColumnConfig(model_key=k, temperature=0.0, seed=1, max_tokens=args.max_tokens) for k in keys]
        timed_turn(services, columns)  # warm-up: both servers have the prompt cached equally afterwards
        ratios, together_times, slower_times = [], [], []
        for _ in range(args.runs):
            alone = [timed_turn(services, [c])[0] for c in columns]
            together, tokens = timed_turn(services, columns)
            slower = max(alone)
            ratios.append(together / slower)
            together_times.append(together)
            slower_times.append(slower)
        print(
            f"2 columns, each a llama_cpp.server with 1 thread; {args.max_tokens} max tokens; last completion tokens {tokens}; {args.runs} rounds"
        )
        print(
            f"side by side: median {statistics.median(together_times):.2f} s   runs: {', '.join(f'{t:.2f}' for t in together_times)}"
        )
        print(
            f"slower single column: median {statistics.median(slower_times):.2f} s   runs: {', '.join(f'{t:.2f}' for t in slower_times)}"
        )
        ratio = statistics.median(ratios)
        print(
            f"ratio side-by-side / slower single = {ratio:.3f} (median of per-round ratios; goal <= 1.2: {'met' if ratio <= 1.2 else 'NOT met'})"
        )
    finally:
        services.close()
        for proc, _ in servers:
            stop_process(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
