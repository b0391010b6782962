"""Issue 17 §1c: a Bayesian hierarchical model in NumPyro (NUTS), as an experiment.

The model is pooled_eb's, fully Bayesian and fitted jointly to every region of a panel: on the
modelling scale, region ``j``'s increment over a span of years ``(s, e]`` is
``sum_{t in (s, e]} (m_t + eta_t) + k a_j + sqrt(k) sigma_j eps`` (``k = e - s``: gaps count
as several yearly steps), with a common random-walk level ``m_t``, a common yearly shock
``eta_t ~ N(0, r^2)``, deviations ``a_j ~ N(alpha, tau^2)`` and log-volatilities
``log sigma_j ~ N(mu_s, omega^2)``; weakly informative half-normal priors on the standardised
increments. One fit per (panel, origin) with every region cut at the origin (leak-free), then
1,000 paths per region from the posterior draws.

It runs in its own virtual environment (NumPyro and JAX are not dependencies of the suite):

    python3.11 -m venv /work/venv-ppl && /work/venv-ppl/bin/pip install numpyro jax pandas scipy
    # 1. in the suite's environment: the panels' series as plain arrays
    PYTHONPATH=src /work/main/.venv/bin/python benchmarks/experiments/pooling_ppl.py export
    # 2. in the PPL environment: fit and simulate, one process per panel (JAX's compilation
    #    caches grew until LLVM could not allocate memory when every panel ran in one process)
    for p in provinces peers_gdp europe hangzhou_rd hangzhou_gdp; do
        /work/venv-ppl/bin/python benchmarks/experiments/pooling_ppl.py fit $p; done
    # 3. in the suite's environment: the paths join pooling.py's cache as member "ppl_hier"
    PYTHONPATH=src /work/main/.venv/bin/python benchmarks/experiments/pooling_ppl.py import [CACHE]
"""
from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

import numpy as np

EXPORT = Path("/tmp/pooling_ppl_data.pkl")
PATHS = Path("/tmp/pooling_ppl_paths.pkl")
CACHE = Path("/tmp/pooling_cache")
HORIZON, MIN_TRAIN, N_PATHS, SEED = 4, 6, 1000, 20261127
#: every group's series are fitted together; Hangzhou's own series join the panel they use
FIT_SETS = {"provinces": ["provinces"], "peers_gdp": ["peers_gdp"], "europe": ["europe"],
            "hangzhou_rd": ["provinces", "Hangzhou/rd_intensity"],
            "hangzhou_gdp": ["peers_gdp", "Hangzhou/gdp"]}


def export() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import pooling  # noqa: E402  (the suite's environment)
    from forecast import data
    dataset = data.load(pooling.AS_OF)
    series = {}
    for spec in pooling.specs(dataset, ("provinces", "peers_gdp", "hangzhou", "europe")):
        series[spec.label + "@" + spec.group] = dict(
            group=spec.group, label=spec.label, years=spec.series.years, values=spec.series.values,
            origins=pooling.default_origins(spec.series.years, horizon=HORIZON,
                                            min_train=MIN_TRAIN))
    EXPORT.write_bytes(pickle.dumps(series))
    print(f"exported {len(series)} series to {EXPORT}")


def members(series: dict, fit_set: list[str]) -> list[str]:
    out = []
    for key, s in series.items():
        if s["group"] in fit_set or (s["group"] == "hangzhou" and s["label"] in fit_set):
            out.append(key)
    return out


def model(span_rows, span_region, span_k, span_obs, span_mask, n_years, n_regions):
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    alpha = numpyro.sample("alpha", dist.Normal(0.0, 1.0))
    tau = numpyro.sample("tau", dist.HalfNormal(0.5))
    mu_s = numpyro.sample("mu_s", dist.Normal(-0.5, 1.0))
    omega = numpyro.sample("omega", dist.HalfNormal(0.5))
    q = numpyro.sample("q", dist.HalfNormal(0.3))
    r = numpyro.sample("r", dist.HalfNormal(0.5))
    m0 = numpyro.sample("m0", dist.Normal(0.0, 1.0))
    with numpyro.plate("years", n_years):
        zeta = numpyro.sample("zeta", dist.Normal(0.0, 1.0))
        eps = numpyro.sample("eps", dist.Normal(0.0, 1.0))
    with numpyro.plate("regions", n_regions):
        za = numpyro.sample("za", dist.Normal(0.0, 1.0))
        zs = numpyro.sample("zs", dist.Normal(0.0, 1.0))
    m = m0 + q * jnp.cumsum(zeta)
    numpyro.deterministic("m", m)
    a = alpha + tau * za
    sigma = jnp.exp(mu_s + omega * zs)
    common = m + r * eps
    mean = span_rows @ common + span_k * a[span_region]
    # padded rows (span_mask 0) keep every origin's arrays one shape: one compilation per panel
    numpyro.sample("obs", dist.Normal(mean, jnp.sqrt(span_k) * sigma[span_region])
                   .mask(span_mask), obs=span_obs)


def design(series: dict, keys: list[str], origin: int, first: int, n_years: int, n_obs: int):
    """The span observations of every region cut at ``origin``, padded to ``n_obs`` rows on a
    grid of ``n_years`` yearly increments from ``first + 1``."""
    rows, region, ks, obs, last = [], [], [], [], {}
    for j, key in enumerate(keys):
        s = series[key]
        keep = s["years"] <= origin
        y, v = s["years"][keep], s["values"][keep]
        if len(y):
            last[key] = (int(y[-1]), float(v[-1]))
        for t0, t1, d in zip(y[:-1], y[1:], np.diff(v)):
            row = np.zeros(n_years)
            row[t0 - first:t1 - first] = 1.0
            rows.append(row)
            region.append(j)
            ks.append(t1 - t0)
            obs.append(d)
    n = len(obs)
    pad = n_obs - n
    rows = np.vstack(rows + [np.zeros(n_years)] * pad)
    region = np.asarray(region + [0] * pad)
    ks = np.asarray(ks + [1] * pad, dtype=float)
    obs = np.asarray(obs + [0.0] * pad)
    mask = np.arange(n_obs) < n
    return rows, region, ks, obs, mask, last


def fit_set(series: dict, keys: list[str], origins: list[int], wanted: list[str]):
    """NUTS fits of one panel at each origin (one compilation: arrays padded to one shape)."""
    from functools import partial

    import jax
    from numpyro.infer import MCMC, NUTS

    first = min(int(series[k]["years"][0]) for k in keys)
    n_years = max(origins) - first
    n_obs = max(int(np.sum(np.diff(series[k]["years"][series[k]["years"] <= max(origins)]) > 0))
                for k in keys) * len(keys)
    # the sizes are static (plates), the arrays traced: one compilation for every origin
    static = partial(model, n_years=n_years, n_regions=len(keys))
    mcmc = MCMC(NUTS(static, target_accept_prob=0.9), num_warmup=500, num_samples=500,
                num_chains=2, chain_method="sequential", progress_bar=False, jit_model_args=True)
    paths, seconds = {}, []
    for origin in origins:
        rows, region, ks, obs, mask, last = design(series, keys, origin, first, n_years, n_obs)
        per_year = obs[mask] / ks[mask]
        loc, scale = float(np.mean(per_year)), float(np.std(per_year)) or 1.0
        std_obs = np.where(mask, (obs - ks * loc) / scale, 0.0)
        t0 = time.perf_counter()
        mcmc.run(jax.random.PRNGKey(origin), rows, region, ks, std_obs, mask.astype(bool))
        sec = time.perf_counter() - t0
        post = {k: np.asarray(v) for k, v in mcmc.get_samples().items()}
        n_draws = len(post["q"])
        rng = np.random.default_rng([SEED, origin])
        at = origin - first - 1  # the common level's index in the origin year
        for j, key in enumerate(keys):
            if key not in wanted or origin not in series[key]["origins"] \
                    or last.get(key, (None,))[0] != origin:
                continue
            z_last = last[key][1]
            pick = rng.integers(0, n_draws, N_PATHS)
            sigma = np.exp(post["mu_s"][pick] + post["omega"][pick] * post["zs"][pick, j])
            a = post["alpha"][pick] + post["tau"][pick] * post["za"][pick, j]
            m = post["m"][pick, at]
            steps = np.empty((N_PATHS, HORIZON))
            for h in range(HORIZON):
                m = m + post["q"][pick] * rng.standard_normal(N_PATHS)
                steps[:, h] = (m + post["r"][pick] * rng.standard_normal(N_PATHS) + a
                               + sigma * rng.standard_normal(N_PATHS))
            paths[(key, origin)] = (z_last + np.cumsum(loc + scale * steps, axis=1)
                                    ).astype(np.float32)
        seconds.append((origin, len(keys), sec))
        print(f"{origin}: {len(keys)} regions, {sec:.1f} s", flush=True)
    return paths, seconds


def fit(names: list[str]) -> None:
    series = pickle.loads(EXPORT.read_bytes())
    for name in names:
        keys = members(series, FIT_SETS[name])
        wanted = [k for k in keys if (series[k]["group"] == "hangzhou") == name.startswith("hangzhou")]
        origins = sorted({o for k in wanted for o in series[k]["origins"]})
        t0 = time.time()
        paths, seconds = fit_set(series, keys, origins, wanted)
        out = PATHS.with_name(f"{PATHS.stem}_{name}.pkl")
        out.write_bytes(pickle.dumps({"paths": paths, "seconds": seconds}))
        print(f"{name}: {len(origins)} fits in {time.time() - t0:.0f} s -> {out}", flush=True)


def import_paths(cache: Path = CACHE) -> None:
    by_file: dict = {}
    secs = []
    for part in sorted(PATHS.parent.glob(f"{PATHS.stem}_*.pkl")):
        got = pickle.loads(part.read_bytes())
        secs += [s[-1] for s in got["seconds"]]
        for (key, origin), p in got["paths"].items():
            label, group = key.split("@")
            region, indicator = label.split("/")
            by_file.setdefault(cache / f"{group}__{region}__{indicator}.pkl", {})[
                ("ppl_hier", origin)] = p
    for path, new in by_file.items():
        store = pickle.loads(path.read_bytes())
        store.update(new)
        path.write_bytes(pickle.dumps(store))
    secs = np.array(secs)
    print(f"imported into {len(by_file)} cache files; NUTS seconds per fit: median "
          f"{np.median(secs):.1f}, max {secs.max():.1f}, total {secs.sum():.0f}")


if __name__ == "__main__":
    if sys.argv[1] == "fit":
        fit(sys.argv[2:] or list(FIT_SETS))
    elif sys.argv[1] == "import":
        import_paths(Path(sys.argv[2]) if len(sys.argv) > 2 else CACHE)
    else:
        export()
