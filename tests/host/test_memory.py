"""100 TruePose runs in one host: RSS stays flat and the per-run attention caches are dropped."""

import gc
import os

from graphs import pose_transfer, truepose_runtimes, with_inputs

RUNS = 100
SETTLED_AFTER = 20
MAX_GROWTH_MB = 50


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_repeated_runs_keep_memory_flat_and_release_the_caches(host, testing):
    prompt = pose_transfer(width=64, height=64, steps=1)
    prompt["31"] = {"class_type": "TruePoseTest_Capture", "inputs": {"value": ["8", 0], "name": "patched_model"}}
    rss = {}
    latents = []
    for run in range(1, RUNS + 1):
        result = host.run(with_inputs(prompt, "14", seed=1000 + run))
        assert result.success, result.error
        runtimes = truepose_runtimes(testing.CAPTURED["patched_model"])
        assert runtimes and all(rt.cached_entries == 0 for rt in runtimes), f"caches kept after run {run}"
        if run <= 2:
            latents.append(testing.CAPTURED["latent"]["samples"].clone())
        if run in (SETTLED_AFTER, RUNS):
            gc.collect()
            rss[run] = rss_mb()
    assert not latents[0].equal(latents[1]), "the seed did not change: sampling was cached, not run"
    growth = rss[RUNS] - rss[SETTLED_AFTER]
    assert growth < MAX_GROWTH_MB, f"RSS grew {growth:.1f} MB between run {SETTLED_AFTER} and run {RUNS}"
