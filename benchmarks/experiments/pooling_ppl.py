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
    # 2. in the PPL environment: fit and simulate (~1-2 s per fit after compilation)
    /work/venv-ppl/bin/python benchmarks/experiments/pooling_ppl.py fit
    # 3. in the suite's environment: the paths join pooling.py's cache as member "ppl_hier"
    PYTHONPATH=src /work/main/.venv/bin/python benchmarks/experiments/pooling_ppl.py import
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


def model(span_rows, span_region, span_k, span_obs, n_years, n_regions):
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
    numpyro.sample("obs", dist.Normal(mean, jnp.sqrt(span_k) * sigma[span_region]), obs=span_obs)


def fit_origin(series: dict, keys: list[str], origin: int, seed: int):
    """One NUTS fit with every region cut at ``origin``; returns {key: paths} for the regions
    whose origins include ``origin``, and the fit's seconds."""
    import jax
    from numpyro.infer import MCMC, NUTS

    first = min(int(series[k]["years"][0]) for k in keys)
    n_years = origin - first  # yearly increments first+1 .. origin
    rows, region, ks, obs, last = [], [], [], [], {}
    used = []
    for j, key in enumerate(keys):
        s = series[key]
        keep = s["years"] <= origin
        y, v = s["years"][keep], s["values"][keep]
        if len(y) < 2:
            continue
        used.append(key)
        last[key] = (int(y[-1]), float(v[-1]), len(used) - 1)
        for t0, t1, d in zip(y[:-1], y[1:], np.diff(v)):
            row = np.zeros(n_years)
            row[t0 - first:t1 - first] = 1.0
            rows.append(row)
            region.append(len(used) - 1)
            ks.append(t1 - t0)
            obs.append(d)
    rows, region, ks, obs = map(np.asarray, (rows, region, ks, obs))
    per_year = obs / ks
    loc, scale = float(np.mean(per_year)), float(np.std(per_year)) or 1.0
    std_obs = (obs - ks * loc) / scale
    t0 = time.perf_counter()
    mcmc = MCMC(NUTS(model, target_accept_prob=0.9), num_warmup=500, num_samples=500,
                num_chains=2, chain_method="sequential", progress_bar=False)
    mcmc.run(jax.random.PRNGKey(seed), rows, region, ks.astype(float), std_obs, n_years,
             len(used))
    seconds = time.perf_counter() - t0
    post = {k: np.asarray(v) for k, v in mcmc.get_samples().items()}
    n_draws = len(post["q"])
    rng = np.random.default_rng([SEED, origin])
    out = {}
    for key in used:
        s = series[key]
        if origin not in s["origins"] or last[key][0] != origin:
            continue
        _, z_last, j = last[key]
        pick = rng.integers(0, n_draws, N_PATHS)
        sigma = np.exp(post["mu_s"][pick] + post["omega"][pick] * post["zs"][pick, j])
        a = post["alpha"][pick] + post["tau"][pick] * post["za"][pick, j]
        m = post["m"][pick, -1]
        steps = np.empty((N_PATHS, HORIZON))
        for h in range(HORIZON):
            m = m + post["q"][pick] * rng.standard_normal(N_PATHS)
            steps[:, h] = (m + post["r"][pick] * rng.standard_normal(N_PATHS) + a
                           + sigma * rng.standard_normal(N_PATHS))
        out[key] = z_last + np.cumsum(loc + scale * steps, axis=1)
    return out, seconds


def fit() -> None:
    series = pickle.loads(EXPORT.read_bytes())
    paths, seconds = {}, []
    t_all = time.time()
    for name, fit_set in FIT_SETS.items():
        keys = members(series, fit_set)
        wanted = [k for k in keys if (series[k]["group"] == "hangzhou") == name.startswith("hangzhou")]
        origins = sorted({o for k in wanted for o in series[k]["origins"]})
        for origin in origins:
            got, sec = fit_origin(series, keys, origin, seed=origin)
            seconds.append((name, origin, len(keys), sec))
            for key, p in got.items():
                if key in wanted:
                    paths[(key, origin)] = p.astype(np.float32)
            print(f"{name} {origin}: {len(keys)} regions, {sec:.1f} s", flush=True)
    PATHS.write_bytes(pickle.dumps({"paths": paths, "seconds": seconds}))
    print(f"done in {time.time() - t_all:.0f} s")


def import_paths() -> None:
    got = pickle.loads(PATHS.read_bytes())
    by_file: dict = {}
    for (key, origin), p in got["paths"].items():
        label, group = key.split("@")
        region, indicator = label.split("/")
        by_file.setdefault(CACHE / f"{group}__{region}__{indicator}.pkl", {})[("ppl_hier", origin)] = p
    for path, new in by_file.items():
        store = pickle.loads(path.read_bytes())
        store.update(new)
        path.write_bytes(pickle.dumps(store))
    secs = np.array([s[3] for s in got["seconds"]])
    print(f"imported into {len(by_file)} cache files; fit seconds: median {np.median(secs):.1f}, "
          f"max {secs.max():.1f}, total {secs.sum():.0f}")


if __name__ == "__main__":
    {"export": export, "fit": fit, "import": import_paths}[sys.argv[1]]()
