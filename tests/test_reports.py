"""The notebooks and the yearly report: papermill runs with small parameters, the values
collected from the executed notebooks, failure handling, provenance, and a headless browser."""
from __future__ import annotations

import argparse
import base64
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import papermill as pm
import pandas as pd
import pytest
import scrapbook as sb

from forecast import calibration, data, render, reports
from forecast.i18n import language
from forecast.probability import format_probability
from forecast.errors import InputError
from conftest import copy_registry

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
AS_OF = "2026-11-27"
FAST = ["rw_drift", "linear_trend"]
SMALL = {"as_of": AS_OF, "n_paths": 300, "seed": 7, "models": FAST}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def execute(notebook: str, out: Path, **parameters) -> dict:
    pm.execute_notebook(str(NOTEBOOKS / notebook), str(out), parameters=parameters,
                        kernel_name=reports.KERNEL, cwd=str(NOTEBOOKS), progress_bar=False,
                        start_timeout=120, execution_timeout=600)
    return {name: scrap.data for name, scrap in sb.read_notebook(str(out)).scraps.items()}


# ----------------------------------------------------------------- the notebooks as committed

@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_committed_clean_with_one_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "outputs not stripped"
    first_code = next(c for c in nb.cells if c.cell_type == "code" and c is not tagged[0])
    assert first_code.source.lstrip().startswith("import forecast")


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_every_notebook_refuses_parameters_it_does_not_declare(path):
    # the check cell lists the parameters cell's names: the two must not drift apart
    declared = " ".join(pm.inspect_notebook(str(path)))
    nb = nbformat.read(path, as_version=4)
    assert any(f'reports.refuse_unknown_parameters(globals(), "{declared}")' in c.source
               for c in nb.cells if c.cell_type == "code")


def test_an_unknown_parameter_is_named_with_a_guess():
    # papermill's injected cell, as the kernel's input history holds it
    injected = "# Parameters\nindicator = \"rd_intensity\"\nscenario = \"slower_trend\"\n"
    namespace = {"In": ["", "indicator = 'x'\nscenarios = []", injected],
                 "indicator": "rd_intensity", "scenario": "slower_trend"}
    with pytest.raises(InputError) as err:
        reports.refuse_unknown_parameters(namespace, "indicator scenarios")
    assert err.value.field == "scenario" and "did you mean 'scenarios'" in err.value.message
    # papermill's own names (--inject-paths) are not the user's typos
    namespace["In"][2] = "# Parameters\nindicator = 'x'\nPAPERMILL_INPUT_PATH = 'a.ipynb'\n"
    reports.refuse_unknown_parameters(namespace, "indicator scenarios")
    # run by hand, or run again in the same kernel: globals of the first run are not parameters
    reports.refuse_unknown_parameters({"In": ["", "x = 1"], "glue": {}, "fmt": "{:.1%}"},
                                      "indicator scenarios")


def test_scenario_explorer_refuses_two_scenarios_of_one_name():
    # they would be tabulated as one column
    with pytest.raises(InputError, match="already taken"):
        reports.resolve_scenarios(["slower_trend", "notebooks/scenarios/slower_trend.yaml"])
    with pytest.raises(InputError) as err:
        reports.resolve_scenarios([])
    assert err.value.field == "scenarios"
    # one name alone is a list of one; None is every file of the folder, so a scenario added
    # there reaches the report's scenario pages (a fixed list of eight left it out)
    assert [s.name for s in reports.resolve_scenarios("slower_trend")] == ["slower_trend"]
    assert {s.name for s in reports.resolve_scenarios(None)} >= {
        "slower_trend", "gdp_slowdown", "employment_growth"}


def test_every_scenario_file_of_the_folder_reaches_the_pages(tmp_path, monkeypatch):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "a.yaml").write_text("name: a\ntrend: -0.01\n", encoding="utf-8")
    (tmp_path / "scenarios" / "b.yml").write_text("name: b\ntrend: 0.01\n", encoding="utf-8")
    (tmp_path / "scenarios" / "notes.txt").write_text("not a scenario", encoding="utf-8")
    monkeypatch.setattr(reports, "notebooks_dir", lambda: tmp_path)
    assert [s.name for s in reports.resolve_scenarios(None)] == ["a", "b"]
    before = reports.files_hash(tmp_path / "scenarios")
    (tmp_path / "scenarios" / "b.yml").write_text("name: b\ntrend: 0.02\n", encoding="utf-8")
    assert reports.files_hash(tmp_path / "scenarios") != before  # a .yml counts too


def test_scenario_files_load_and_say_what_they_assume():
    paths = sorted((NOTEBOOKS / "scenarios").glob("*.yaml"))
    assert {"slower_trend", "growth_shock_2026", "high_volatility", "employment_low_ratio",
            "employment_high_ratio"} <= {p.stem for p in paths}
    for path in paths:
        scenario = reports.resolve_scenario(path.stem)
        assert scenario.name == path.stem and len(scenario.description) > 40
        # pages show where the file lives in the project, not this machine's absolute path
        assert scenario.source == f"notebooks/scenarios/{path.name}"


@pytest.mark.parametrize("kwargs,field", [
    ({"indicator": "no_such"}, "indicator"), ({"indicator": "gdp"}, "indicator"),
    ({"indicator": "rd_intensity", "n_paths": 10}, "n_paths"),
    ({"indicator": "rd_intensity", "n_paths": "many"}, "n_paths"),
    ({"indicator": "rd_intensity", "n_paths": 2500.5}, "n_paths"),
    ({"indicator": "rd_intensity", "models": ["nope"]}, "models"),
    ({"indicator": "rd_intensity", "target_years": "2025"}, "target_years"),
    ({"indicator": "rd_intensity", "region": "Atlantis"}, "region"),
    ({"indicator": "rd_intensity", "seed": -1}, "seed"),
    ({"indicator": "rd_intensity", "as_of": "yesterday"}, "as_of"),
])
def test_bad_notebook_parameters_name_the_parameter(kwargs, field):
    with pytest.raises(InputError) as err:
        reports.notebook_inputs(**kwargs)
    assert err.value.field == field


def test_a_whole_number_written_as_a_float_is_a_path_count(tmp_path):
    # papermill -p n_paths 1e4 passes 10000.0
    assert reports.notebook_inputs(indicator="rd_intensity", n_paths=1e4).n_paths == 10000


def test_kernel_shutdown_noise_leaves_a_successful_notebooks_log(tmp_path):
    log = tmp_path / "x.stderr.txt"
    log.write_text("warning: kept\n[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel\n",
                   encoding="utf-8")
    reports._drop_shutdown_noise(log)
    assert log.read_text(encoding="utf-8") == "warning: kept\n"


def test_a_misspelt_notebook_indicator_gets_a_guess_and_the_forecastable_list():
    with pytest.raises(InputError) as err:
        reports.notebook_inputs(indicator="labour_productivty", as_of=AS_OF)
    assert "did you mean 'labour_productivity'" in err.value.message
    # the list is of indicators with targets, not the whole catalogue (gdp has no target)
    listed = err.value.expected.split(": ", 1)[1].split(", ")
    assert "rd_intensity" in listed and "gdp" not in listed


def test_forecastable_set():
    status = reports.forecastable_indicators(data.load(AS_OF))
    assert status["rd_intensity"] == "probability"
    assert status["labour_productivity"] == "probability"
    assert status.get("digital_core_share_gdp") == "pace only"
    assert "brand_sales_share_mfg" not in status


def test_git_commit_reads_the_repository_or_says_unknown(tmp_path):
    commit = reports.git_commit(REPO)
    if shutil.which("git") and (REPO / ".git").exists():  # a clone: the commit checked out
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        assert commit == head
    else:
        assert commit == "unknown" or len(commit) == 40
    assert reports.git_commit(tmp_path) == "unknown"


# ----------------------------------------------------------------- each notebook, small

@pytest.mark.slow
def test_indicator_forecast_notebook(tmp_path):
    scraps = execute("indicator_forecast.ipynb", tmp_path / "out.ipynb",
                     indicator="rd_intensity", scenario="slower_trend", **SMALL)
    result = scraps["result"]
    assert result["status"] == "probability" and result["scenario"]["name"] == "slower_trend"
    assert result["params"]["n_paths"] == 300 and result["params"]["models"] == FAST
    assert set(result["probabilities"]) == {"rd_intensity_2025", "rd_intensity_2027"}
    # meeting both targets is no likelier than meeting the harder one
    assert result["joint"]["p_all_met"] <= min(
        p["p_in_year"] for p in result["probabilities"].values()) + 1e-12


@pytest.mark.slow
def test_indicator_forecast_notebook_pace_only(tmp_path):
    scraps = execute("indicator_forecast.ipynb", tmp_path / "out.ipynb",
                     indicator="digital_core_share_gdp", **SMALL)
    assert scraps["result"]["status"] == "pace only" and not scraps["result"]["probabilities"]
    assert scraps["result"]["pace"]


@pytest.mark.slow
def test_bad_parameter_fails_the_notebook_naming_it(tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as err:
        execute("indicator_forecast.ipynb", tmp_path / "out.ipynb", indicator="rd_intensity",
                **{**SMALL, "n_paths": 5})
    assert "InputError" in str(err.value) and "n_paths" in str(err.value)
    # papermill itself only warns of a parameter the notebook does not have, and the page
    # would show the baseline as if it were the scenario asked for
    with pytest.raises(pm.PapermillExecutionError) as err:
        execute("scenario_explorer.ipynb", tmp_path / "out.ipynb", indicator="rd_intensity",
                scenario="slower_trend", **SMALL)
    assert "'scenario' is not a parameter" in str(err.value) and "scenarios" in str(err.value)


@pytest.mark.slow
def test_scenario_explorer_notebook(tmp_path):
    scraps = execute("scenario_explorer.ipynb", tmp_path / "out.ipynb",
                     indicator="labour_productivity",
                     scenarios=["slower_trend", "employment_low_ratio", "employment_high_ratio"],
                     **SMALL)
    rows = {r["scenario"]: r for r in scraps["scenarios"]}
    assert set(rows) == {"baseline", "slower_trend", "employment_low_ratio",
                         "employment_high_ratio"}
    key = "p_labour_productivity_2027"
    assert rows["employment_low_ratio"][key] >= rows["employment_high_ratio"][key]


@pytest.mark.slow
def test_target_sensitivity_notebook(tmp_path):
    scraps = execute("target_sensitivity.ipynb", tmp_path / "out.ipynb",
                     indicator="rd_intensity", **SMALL)
    sens = scraps["sensitivity"]
    assert {r["target_id"] for r in sens["levels"]} == {"rd_intensity_2025", "rd_intensity_2027"}
    assert {r["assumption"] for r in sens["tornado"]["rd_intensity_2027"]} == {
        "model choice", "volatility", "growth shock", "trend", "gdp basis", "as_of",
        "data vintage"}


@pytest.mark.slow
def test_calibration_notebook(tmp_path):
    # a float path count, as `papermill -p n_paths 1e2` passes it: the notebook must use the
    # validated whole number, not the raw parameter
    scraps = execute("calibration.ipynb", tmp_path / "out.ipynb", as_of=AS_OF, n_paths=100.0,
                     max_origins=1, horizon=3, models=FAST)
    cal = scraps["calibration"]
    assert cal["summary"]["n_series"] >= 30 and cal["summary"]["n_forecasts"] > 30
    assert abs(sum(r["share"] for r in cal["pit"]) - 1) < 1e-9
    assert "Hangzhou/rd_intensity" in cal["series"]


@pytest.mark.slow
def test_yearly_summary_notebook(tmp_path):
    scraps = execute("yearly_summary.ipynb", tmp_path / "out.ipynb", as_of=AS_OF, n_paths=300.0,
                     seed=7, models=FAST, pages={"rd_intensity": "rd_intensity.html"})
    rows = {r["target_id"]: r for r in scraps["summary"]}
    assert len(rows) == len(data.load(AS_OF).registry.targets)
    assert rows["rd_intensity_2025"]["page"] == "rd_intensity.html"
    assert rows["rd_intensity_2025"]["p_in_year"] is not None
    assert rows["brand_sales_share_mfg_2025"]["status"] == "not forecastable"
    assert "forecast data add" in rows["brand_sales_share_mfg_2025"]["route"]


# ----------------------------------------------------------------- the report

def report_args(out: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    reports.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["report", "--as-of", AS_OF, "--out", str(out), "--no-progress",
                              *extra])


def _small_report(out: Path, *lang: str) -> Path:
    args = report_args(out, "--indicators", "rd_intensity", "--paths", "300", "--seed", "7",
                       "--models", *FAST, "--calibration-paths", "100",
                       "--calibration-origins", "1", "--jobs", "2", *lang)
    assert args.func(args) == 0
    return out / AS_OF


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A small report in English (--lang en)."""
    return _small_report(tmp_path_factory.mktemp("reports"), "--lang", "en")


@pytest.fixture(scope="module")
def report_zh(tmp_path_factory):
    """The same report in the Hangzhou plan's own language, Chinese (no --lang)."""
    return _small_report(tmp_path_factory.mktemp("reports_zh"))


@pytest.mark.slow
def test_report_pages_index_and_summary(report):
    for page in ("index.html", "rd_intensity.html", "rd_intensity__sensitivity.html",
                 "rd_intensity__scenarios.html", "calibration.html", "yearly_summary.html",
                 "summary.json", "summary.csv", "notebooks/rd_intensity.ipynb"):
        assert (report / page).is_file(), page
    summary = json.loads((report / "summary.json").read_text())
    page = summary["pages"]["rd_intensity"]
    row = next(r for r in summary["targets"] if r["target_id"] == "rd_intensity_2025")
    # collected from the executed notebooks, and the summary agrees with the page
    assert row["p_in_year"] == page["probabilities"]["rd_intensity_2025"]["p_in_year"]
    assert row["page"] == "rd_intensity.html"
    # nested values reach the CSV as JSON (they were Python reprs: {'0.58': 1.0, ...})
    flat = pd.read_csv(report / "summary.csv").set_index("target_id")
    held = json.loads(flat.loc["labour_productivity_2027", "p_at_ratio"])
    assert set(held) == {"0.58", "0.66", "0.74"} and all(0 <= v <= 1 for v in held.values())
    assert set(summary["wall_seconds"]["notebooks"]) == {n["stem"] for n in summary["notebooks"]}
    index = html.unescape((report / "index.html").read_text())
    assert "rd_intensity.html" in index and "全社会研发投入强度" in index
    # the answer first: the chart, a short table and one sentence per target come before
    # the details
    assert index.index("<img") < index.index("In one sentence each") < index.index("<details")
    rd25 = next(r for r in summary["targets"] if r["target_id"] == "rd_intensity_2025")
    assert (f"the chance of reaching ≥ 4% in 2025 is {format_probability(rd25['p_in_year'])} "
            "(unlikely)") in index
    # behind details: how far the probabilities have earned trust, from this run's own
    # calibration page, and how current the data are
    pooled = summary["calibration"]["summary"]
    assert "How far to trust these probabilities" in index
    assert f"Brier score of {pooled['brier_events']:.3f} (lower is better: always saying 50% " \
        f"scores 0.250; giving each kind of event the share of them that happened, known " \
        f"only in hindsight, {pooled['brier_events_base_rate']:.3f})" in index
    assert "The newest figure behind a target was published" in index
    # years forecast although past release lags say their figures are out
    assert re.search(r"a first figure is probably published already for: [^<]*"
                     r"rd_intensity 2024, 2025", index)
    # R&D intensity is read against the census-revised GDP; the index says so, with the
    # probability on the history's own basis, as the summary has them
    assert rd25["p_in_year"] < rd25["p_history_basis"]
    assert "R&D intensity is read against census-revised Gross domestic product" in index
    assert (f"2025: {format_probability(rd25['p_in_year'])} (on the history's basis "
            f"{format_probability(rd25['p_history_basis'])})") in index
    # and the experts' table names the pace's target on the history's basis (4 as 4.16)
    assert f"paced against {rd25['pace_target_value']:.3g}, the target on the history" in index
    page_html = (report / "rd_intensity.html").read_text()
    assert "forecast_indicator(inputs.dataset" not in page_html, "code cells must be hidden"
    assert "data:image/png;base64" in page_html
    # charts are embedded at twice the pixel density they are shown at, sharp enough to
    # paste into slides (110 dpi before)
    img = re.search(r'<img[^>]*src="data:image/png;base64,([^"]+)"[^>]*>', page_html)
    shown = re.search(r'width="?(\d+)', img.group(0))
    pixels = int.from_bytes(base64.b64decode(img.group(1))[16:20], "big")  # PNG IHDR width
    assert shown and pixels >= 1.9 * int(shown.group(1))
    # self-contained: no page loads a script from elsewhere (readers may be offline, or
    # behind a firewall that blocks the CDN)
    for page in report.glob("*.html"):
        assert not re.search(r"<script[^>]+src=", page.read_text()), page.name


@pytest.mark.slow
def test_report_provenance(report):
    prov = json.loads((report / "summary.json").read_text())["provenance"]
    assert prov["as_of"] == AS_OF and prov["seed"] == 7
    assert prov["data_hash"] == data.load(AS_OF).data_hash
    assert prov["parameters"]["n_paths"] == 300 and prov["parameters"]["models"] == FAST
    assert {"numpy", "pandas", "papermill", "python", "forecast"} <= set(prov["packages"])
    assert prov["git_commit"]
    # an edited scenario file changes P with the same commit and data: its hash is recorded,
    # and so are uncommitted changes to tracked files (None only without git)
    assert prov["scenarios_hash"] == reports.files_hash(REPO / "notebooks" / "scenarios")
    assert prov["local_changes"] is None or isinstance(prov["local_changes"], list)
    for page in ("index.html", "rd_intensity.html", "calibration.html"):
        text = (report / page).read_text()
        assert "Provenance" in text and prov["data_hash"][:16] in text
        assert f"scenario files <code>{prov['scenarios_hash'][:16]}</code>" in text


def test_scenario_files_hash_follows_their_content(tmp_path):
    (tmp_path / "a.yaml").write_text("name: a\ntrend: -0.01\n", encoding="utf-8")
    before = reports.files_hash(tmp_path)
    (tmp_path / "a.yaml").write_text("name: a\ntrend: -0.05\n", encoding="utf-8")
    assert reports.files_hash(tmp_path) != before
    assert reports.files_hash(tmp_path / "none") is None
    prov = {"as_of": AS_OF, "data_hash": "ab" * 32, "parameters": {"plan": "hangzhou"},
            "seed": 1, "git_commit": "c" * 40, "local_changes": ["src/x.py"],
            "scenarios_hash": None, "generated_at": "now", "packages": {}, "user_data": []}
    assert "<b>with uncommitted changes to src/x.py</b>" in render.footer_html(prov)
    assert "uncommitted" not in render.footer_html(dict(prov, local_changes=[]))


def test_uncommitted_changes_are_listed_but_not_benchmark_results(tmp_path):
    if not shutil.which("git"):
        pytest.skip("no git")
    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run(git + ["init", "-q"], check=True)
    (tmp_path / "src.py").write_text("x = 1\n")
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "RESULTS.md").write_text("old\n")
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "c"], check=True)
    assert reports.local_changes(tmp_path) == []
    (tmp_path / "src.py").write_text("x = 2\n")
    (tmp_path / "benchmarks" / "RESULTS.md").write_text("new\n")
    assert reports.local_changes(tmp_path) == ["src.py"]
    assert reports.local_changes(tmp_path / "benchmarks") is None  # not a repository root


def test_a_partial_run_does_not_replace_a_fuller_report(tmp_path, monkeypatch):
    """`forecast report --indicators rd_intensity` replaced a full report for the same date,
    dropping every other page without a word: it is refused before any notebook runs."""
    final = tmp_path / AS_OF
    final.mkdir()
    summary = {"provenance": {"parameters": {"indicators": ["rd_intensity", "labour_productivity"]}}}
    (final / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(InputError) as info:
        reports.build_report(AS_OF, tmp_path, indicators=["rd_intensity"], progress=False)
    assert info.value.field == "indicators" and "labour_productivity" in info.value.message
    assert "--out DIR" in info.value.expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [AS_OF]  # nothing started
    assert json.loads((final / "summary.json").read_text()) == summary

    # a full run renders what is forecastable now, whatever the earlier report had (an
    # indicator whose user data were deleted drops out): it gets past the guard
    class Reached(Exception):
        pass

    def stop(*args, **kwargs):
        raise Reached
    monkeypatch.setattr(reports, "process_pool", stop)
    with pytest.raises(Reached):
        reports.build_report(AS_OF, tmp_path, progress=False)


def test_a_report_with_the_users_own_data_says_so(tmp_path, monkeypatch):
    """A hypothetical 2025 value made the same git commit report a different P, and only the
    data hash told: the provenance, the footer and the index banner now name the user's file."""
    from test_data import row, write_csv
    (tmp_path / "data" / "raw" / "series").mkdir(parents=True)
    copy_registry(tmp_path)
    write_csv(tmp_path / "data" / "raw" / "series" / "base.csv",
              [row(year=str(y), value=str(2.5 + 0.1 * (y - 2010))) for y in range(2010, 2020)])
    monkeypatch.setenv("FORECAST_HOME", str(tmp_path))
    shipped_only = data.load(2026, tmp_path)
    assert reports.user_data(shipped_only) == []
    write_csv(tmp_path / "data" / "raw" / "user" / "mine.csv",
              [row(year="2020", value="3.6", source_title="HYPOTHETICAL test value")])
    dataset = data.load(2026, tmp_path)
    [entry] = reports.user_data(dataset)
    assert entry["file"] == "mine.csv" and entry["values"] == ["Hangzhou rd_intensity 2020"]
    assert entry["sources"] == ["HYPOTHETICAL test value"]
    prov = reports.provenance(dataset, {"seed": 1})
    footer = render.footer_html(prov)
    assert "includes data brought by the user" in footer and "HYPOTHETICAL test value" in footer
    assert "data/raw/user/mine.csv" in render.user_data_lines(prov["user_data"])[0]
    assert render.user_data_lines(reports.provenance(shipped_only, {})["user_data"]) == []
    # however many or long the titles, the banner on every page stays short
    write_csv(tmp_path / "data" / "raw" / "user" / "mine.csv",
              [row(year=str(2000 + i), value="3.6", source_title=f"title {i} " + "x" * 500,
                   vintage="user's own", published=f"{2001 + i}")
               for i in range(15)])
    [entry] = reports.user_data(data.load(2026, tmp_path))
    assert len(entry["sources"]) == 11 and entry["sources"][-1] == "and 5 more"
    assert max(map(len, entry["sources"])) <= 120


def test_the_index_says_what_moved_since_the_previous_report(tmp_path, shipped):
    """A yearly report is read next to last year's: which probabilities moved, which figures
    were published in between, and whether settings or code changed."""
    rows = [{"target_id": "rd_intensity_2027", "name_en": "R&D intensity", "year": 2027,
             "p_in_year": 0.52, "status": "probability"},
            {"target_id": "rd_intensity_2025", "name_en": "R&D intensity", "year": 2025,
             "p_in_year": 0.635, "status": "probability"}]
    prov = {"parameters": {"n_paths": 10000, "seed": 1, "models": ["a"]}, "git_commit": "new"}
    assert reports.changes_since_previous(tmp_path, AS_OF, rows, shipped, prov) is None
    before = tmp_path / "2025-11-27"
    before.mkdir()
    (before / "summary.json").write_text(json.dumps({
        "as_of": "2025-11-27", "provenance": {"parameters": {"n_paths": 4000, "seed": 1,
                                                             "models": ["a"]},
                                              "git_commit": "old"},
        "targets": [{"target_id": "rd_intensity_2027", "p_in_year": 0.70, "status": "probability"},
                    {"target_id": "rd_intensity_2025", "p_in_year": 0.632,
                     "status": "probability"}]}))
    (tmp_path / "2027-01-01").mkdir()  # a later report is not "previous"
    other = tmp_path / "2026-01-01"  # nor is another plan's, even if newer
    other.mkdir()
    (other / "summary.json").write_text(json.dumps({
        "as_of": "2026-01-01", "targets": [],
        "provenance": {"parameters": {"plan": "/elsewhere/toy", "n_paths": 1}}}))
    changes = reports.changes_since_previous(tmp_path, AS_OF, rows, shipped, prov)
    assert changes["as_of"] == "2025-11-27"
    # GDP 2024 was published in 2025-05, before the earlier report: not new; nothing after
    # 2025-11-27 is in the shipped data behind the targets except what the data says
    behind = reports._rows_behind_targets(shipped)
    fresh = behind[pd.to_datetime(behind["available"]) > pd.Timestamp("2025-11-27")]
    assert len(changes["new_figures"]) == len(fresh)
    assert changes["settings"] == ["n_paths 4000 -> 10000", "code old -> new"]
    view = render.changes_view(changes, language("en"))
    assert [(r["year"], r["change"]) for r in view["rows"]] == [(2027, "-18 pts")]  # 70% -> 52%
    text = render.render("changes.html.j2", "en", changes=view)
    assert "-18 pts" in text and text.count("<tr>") == 2  # 2025's 0.3 points is noise
    # an unreadable earlier report is said, not skipped
    (before / "summary.json").write_text("{not json")
    broken = reports.changes_since_previous(tmp_path, AS_OF, rows, shipped, prov)
    assert "could not be read" in render.render("changes.html.j2", "en", changes=render.changes_view(
        broken, language("en")))


def _stub_notebooks(directory: Path, failing: str | None = None,
                    hanging: Path | None = None) -> None:
    """Tiny stand-ins for the report's notebooks (synthetic, for the failure tests): each has
    a parameters cell and glues what the report collects; ``failing`` raises; with
    ``hanging``, every notebook writes its kernel's pid into that folder and sleeps."""
    directory.mkdir(parents=True, exist_ok=True)
    glue = {"indicator_forecast.ipynb": ("result", "{}"), "yearly_summary.ipynb": ("summary", "[]"),
            "target_sensitivity.ipynb": ("sensitivity", "{}"),
            "scenario_explorer.ipynb": ("scenarios", "[]"),
            "calibration.ipynb": ("calibration", "{}")}
    for name, (key, value) in glue.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        params = nbformat.v4.new_code_cell("indicator = None")
        params.metadata["tags"] = ["parameters"]
        body = (f"raise RuntimeError('synthetic failure in {name}')" if name == failing
                else f"import scrapbook as sb\nsb.glue({key!r}, {value})")
        if hanging is not None:
            body = (f"import os, time\nopen(os.path.join({str(hanging)!r}, str(os.getpid())),"
                    f" 'w').close()\ntime.sleep(600)")
        nb.cells = [params, nbformat.v4.new_code_cell(body)]
        nbformat.write(nb, directory / name)


@pytest.mark.slow
def test_failed_notebook_keeps_the_previous_report_and_exits_non_zero(tmp_path, capsys,
                                                                       monkeypatch):
    # a relative out folder, as `make report` gives (the kernels run in another folder)
    monkeypatch.chdir(tmp_path)
    out = Path("reports")
    good = tmp_path / "good"
    _stub_notebooks(good)
    kw = dict(out=out, indicators=["digital_core_share_gdp"], n_paths=300, jobs=2,
              progress=False)
    first = reports.build_report(AS_OF, source_dir=good, **kw)
    assert first.ok and (out / AS_OF / "index.html").is_file()
    assert (out / AS_OF / "notebooks" / "calibration.stderr.txt").is_file()
    marker = (out / AS_OF / "summary.json").read_text()

    bad = tmp_path / "bad"
    _stub_notebooks(bad, failing="calibration.ipynb")
    second = reports.build_report(AS_OF, source_dir=bad, **kw)
    assert not second.ok and second.failed == ["calibration"]
    assert (out / AS_OF / "summary.json").read_text() == marker, "good report replaced"
    failed = out / f"{AS_OF}.failed"
    assert "synthetic failure" in (failed / "errors.txt").read_text()
    assert (failed / "notebooks" / "calibration.ipynb").is_file()
    assert "synthetic failure" in (failed / "calibration.html").read_text()
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "staging left behind"

    # the command: exit status 1 naming the notebook
    from unittest import mock
    with mock.patch.object(reports, "notebooks_dir", return_value=bad):
        args = report_args(out, "--indicators", "digital_core_share_gdp", "--paths", "300")
        assert args.func(args) == 1
    assert "calibration" in capsys.readouterr().err

    # a later good run replaces the report and clears the stale failure
    third = reports.build_report(AS_OF, source_dir=good, **kw)
    assert third.ok and not failed.exists()


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_an_interrupted_report_stops_its_workers_and_leaves_the_previous_report(
        tmp_path, signal_name):
    """``kill`` or Ctrl-C during ``forecast report`` used to let the run go on (the pool
    waited for every queued notebook) and left a staging folder and running kernels behind."""
    import signal
    import sys
    import time
    out, hang, pids = tmp_path / "reports", tmp_path / "hang", tmp_path / "pids"
    pids.mkdir()
    _stub_notebooks(hang, hanging=pids)
    previous = out / AS_OF
    previous.mkdir(parents=True)
    (previous / "index.html").write_text("the previous report")
    script = (f"import sys; from pathlib import Path; from unittest import mock\n"
              f"from forecast import cli, reports\n"
              f"with mock.patch.object(reports, 'notebooks_dir', return_value=Path({str(hang)!r})):\n"
              f"    sys.exit(cli.main(['report', '--as-of', {AS_OF!r}, '--out', {str(out)!r},"
              f" '--indicators', 'digital_core_share_gdp', '--paths', '300', '--jobs', '2',"
              f" '--no-progress']))")
    # its own process group, as a terminal's Ctrl-C reaches every process of the group
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while (len(list(pids.iterdir())) < 2 and proc.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.5)
    kernels = [int(p.name) for p in pids.iterdir()]
    if len(kernels) < 2:
        proc.kill()
        pytest.fail(f"the stub notebooks did not start: {proc.communicate()[1][-2000:]}")
    # the kernels' connection files are inside the staging folder, which goes with the run
    assert len(list(out.glob(f".{AS_OF}.tmp-*/{reports.RUNTIME_DIR}/*.json"))) == 2
    sig = getattr(signal, signal_name)
    if signal_name == "SIGINT":
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"{signal_name} did not stop the report within 60 s")
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "IPKernelApp" not in err, "kernel warnings belong in the notebooks' stderr logs"
    assert (previous / "index.html").read_text() == "the previous report"
    assert sorted(p.name for p in out.iterdir()) == [AS_OF], "staging or failure left behind"
    deadline = time.monotonic() + 30  # kernels poll their parent once a second
    while time.monotonic() < deadline and any(Path(f"/proc/{k}").exists() for k in kernels):
        time.sleep(0.5)
    assert not [k for k in kernels if Path(f"/proc/{k}").exists()], "kernels left running"


NO_CHROMIUM = ("chromium not installed (make test installs Debian's chromium when run as root "
               "with apt; otherwise this is skipped)")
#: a phone's width and a desktop's
WIDTHS = (390, 1280)


def _page_texts(page: Path) -> str:
    """The text a reader sees on a page: no scripts, styles or tags."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts, self.hidden = [], 0

        def handle_starttag(self, tag, attrs):
            self.hidden += tag in ("script", "style")
            # what a screen reader or a hover says is read too
            self.parts += [value for name, value in attrs if name in ("alt", "title") and value]

        def handle_endtag(self, tag):
            self.hidden -= tag in ("script", "style")

        def handle_data(self, text):
            if not self.hidden:
                self.parts.append(text)
    parser = Text()
    parser.feed(page.read_text(encoding="utf-8"))
    return " ".join(parser.parts)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_in_a_browser_at_a_phones_and_a_desktops_width(report, report_zh, lang):
    """Every page of the report, in both languages, at 390 px (a phone) and 1280 px: no
    console error, every image with alternative text, and the index and the brief without
    horizontal scrolling at 390 px (a wide table scrolls in its own box)."""
    from playwright.sync_api import sync_playwright
    folder = report if lang == "en" else report_zh
    pages = sorted(p.name for p in folder.glob("*.html"))
    assert {"index.html", "brief.html", "rd_intensity.html", "calibration.html"} <= set(pages)
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking"])
        try:
            for width in WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": 900})
                for name in pages:
                    page = context.new_page()
                    errors = []
                    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                    page.on("pageerror", lambda e: errors.append(str(e)))
                    page.goto((folder / name).as_uri(), wait_until="load")
                    assert not errors, (lang, width, name, errors)
                    assert page.evaluate("document.documentElement.lang").startswith(
                        "zh" if lang == "zh" else "en"), (lang, name)
                    missing = page.evaluate("Array.from(document.images).filter("
                                            "i => !(i.alt || '').trim()).length")
                    assert missing == 0, (lang, width, name, "images without alt text")
                    if name in ("index.html", "brief.html") and width == 390:
                        overflow = page.evaluate("document.documentElement.scrollWidth"
                                                 " - window.innerWidth")
                        assert overflow <= 0, (lang, name, f"{overflow} px to scroll sideways")
                    page.close()
                context.close()
        finally:
            browser.close()


@pytest.mark.slow
def test_no_nan_none_or_nat_reaches_a_page(report, report_zh):
    """A literal nan (the break-even table's 2025 row), None or NaT on a page reads as a
    bug: every rendered page of both languages is scanned for them."""
    for folder in (report, report_zh):
        for page in sorted(folder.glob("*.html")):
            found = re.findall(r"(?<![\w.])(nan|NaN|None|NaT)(?![\w])", _page_texts(page))
            assert not found, (folder.name, page.name, found)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_the_brief_is_one_or_two_printable_pages(report, report_zh):
    """brief.pdf (Chromium's print-to-PDF of brief.html): one or two A4 pages whose text can
    be extracted, in the report's language, with each central target's line."""
    from pypdf import PdfReader
    for folder, words in ((report, ("R&D intensity", "The central targets",
                                    "What moves these probabilities most")),
                          (report_zh, ("全社会研发投入强度", "全员劳动生产率"))):
        pdf = PdfReader(folder / "brief.pdf")
        assert 1 <= len(pdf.pages) <= 2, len(pdf.pages)
        box = pdf.pages[0].mediabox
        assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
        text = " ".join(page.extract_text() for page in pdf.pages)
        for word in words:
            assert word in text, (folder.name, word)
    # the index links the brief, and the brief names where the rest is
    assert 'href="brief.pdf"' in (report / "index.html").read_text(encoding="utf-8")
    assert "index.html" in (report / "brief.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_hangzhou_report_is_in_chinese_by_default(report_zh):
    summary = json.loads((report_zh / "summary.json").read_text(encoding="utf-8"))
    assert summary["provenance"]["parameters"]["lang"] == "zh"
    index = (report_zh / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-Hans">' in index and "概率" in index
    page = (report_zh / "rd_intensity.html").read_text(encoding="utf-8")
    assert "全社会研发投入强度" in page and "目录" in page
    brief = (report_zh / "brief.html").read_text(encoding="utf-8")
    assert "2026年11月27日" in brief  # dates as Chinese writes them


def test_summary_shows_the_range_of_the_members_probabilities(shipped):
    table = reports.summary_table(shipped, n_paths=400, seed=3, models=("rw_drift", "linear_trend"))
    rd = table.set_index("target_id").loc["rd_intensity_2025"]
    # the mixture is the union of the members' paths: its P is a weighted average of theirs
    assert rd["p_members_min"] <= rd["p_in_year"] <= rd["p_members_max"]
    assert rd["p_members_min"] < rd["p_members_max"]  # two different models disagree
    unforecastable = table.set_index("target_id").loc["brand_sales_share_mfg_2025"]
    assert unforecastable["p_members_min"] is None or pd.isna(unforecastable["p_members_min"])
    html_text = render.summary_table_html(reports.records(table))
    assert f"models {rd['p_members_min']:.0%} to {rd['p_members_max']:.0%}" in html_text
    # 400 paths: P's Monte Carlo error is a few points, and the cell says so beside P
    assert 0.005 < rd["p_mc95"] < 0.15 and pd.isna(unforecastable["p_mc95"])
    assert f"±{100 * rd['p_mc95']:.1f} pts</small>" in html_text
    # a ratio's backtest is its numerator's, and the page says so; a series' own is unlabelled
    lp = table.set_index("target_id").loc["labour_productivity_2027"]
    assert lp["backtest_of"] == "gdp" and rd["backtest_of"] is None
    # a ratio's P is conditional on its employment assumption: the page says where it is 50%
    assert 0.2 < lp["break_even_ratio"] < 1.0 and pd.isna(rd["break_even_ratio"])
    assert f"(0.58-0.74): P = 50% at {lp['break_even_ratio']:.3f}" in html_text
    assert "<br><small>of gdp</small>" in html_text
    # R&D intensity is a share of GDP: the row says how fast spending must grow for it
    assert (rd["required_of"], rd["required_from"]) == ("rd_expenditure", 2023)
    assert 0 < rd["required_growth"] < 0.5
    assert f"needs rd_expenditure to grow {rd['required_growth']:+.1%}/yr from 2023" in html_text
    assert pd.isna(lp["required_growth"])
    # labour productivity's last *published* value is from 2015, far below its 2025 target:
    # the row also says where it stands on the run's own assumption (2024, above 22)
    assert lp["implied_last_year"] == 2024 and 22 < lp["implied_last_low"] < lp["implied_last_high"]
    assert (f"{lp['implied_last_low']:.3g}-{lp['implied_last_high']:.3g} in 2024 on the assumed "
            "employment ratio") in html_text
    assert pd.isna(rd["implied_last_low"])
    # beside each P: how often events given probabilities of its band happened in backtests
    bands = [{"lower": i / 10, "upper": (i + 1) / 10, "n": 100 if i != 9 else 5,
              "mean_predicted": i / 10 + 0.05, "observed_frequency": 0.5 + i / 50}
             for i in range(10)]
    with_record = render.summary_table_html(reports.records(table), track_record=bands)
    band = int(rd["p_in_year"] * 10)
    if band < 9:
        assert (f"events given {band / 10:.0%}-{(band + 1) / 10:.0%} happened "
                f"{0.5 + band / 50:.0%} of the time") in with_record
    assert "in backtests" not in html_text  # no calibration, no claim
    thin = render.summary_table_html(reports.records(table),
                                     track_record=[dict(b, n=3) for b in bands])
    assert "in backtests" not in thin  # too few events in a band to quote it
    # the report builds the page from the collected (CSV/JSON) values: years come back as floats
    floats = table.assign(required_from=table["required_from"].astype(float))
    assert "/yr from 2023</small>" in render.summary_table_html(reports.records(floats))


def test_every_entry_point_defaults_to_the_same_paths_and_seed():
    """The same target must show the same probability in `forecast run`, the report, the
    notebooks and a sweep: one default number of paths and one seed."""
    import ast

    from forecast import cli
    from forecast.probability import DEFAULT_PATHS, DEFAULT_SEED
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cell = next(c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                    if "parameters" in c.get("metadata", {}).get("tags", []))
        values = {t.id: ast.literal_eval(node.value)
                  for node in ast.parse("".join(cell["source"])).body
                  if isinstance(node, ast.Assign) for t in node.targets
                  if isinstance(t, ast.Name) and t.id in ("n_paths", "seed")}
        if path.name != "calibration.ipynb":  # its paths are per backtest origin
            assert values.get("n_paths") == DEFAULT_PATHS, path.name
        assert values.get("seed") == DEFAULT_SEED, path.name
    parser = cli.build_parser()
    for command in (["run", "--indicator", "x"],
                    ["sensitivity", "--indicator", "x", "--targets", "1"]):
        args = parser.parse_args(command)
        assert (args.paths, args.seed) == (DEFAULT_PATHS, DEFAULT_SEED), command


def test_trust_paragraph_says_which_way_the_probabilities_have_erred():
    summary = {"n_forecasts": 295, "coverage_50": 0.49, "coverage_80": 0.81,
               "coverage_95": 0.91, "brier_events": 0.183}
    band = lambda p, o, n: {"mean_predicted": p, "observed_frequency": o, "n": n}  # noqa: E731
    en = language("en")

    def view(calibration):
        return render.calibration_view(calibration, en, "Hangzhou")
    low = view({"summary": summary, "reliability": [
        band(0.05, 0.12, 200), band(0.54, 0.80, 270), band(0.95, 0.97, 119)]})
    high = view({"summary": summary, "reliability": [
        band(0.05, 0.01, 200), band(0.54, 0.30, 270), band(0.95, 0.90, 119)]})
    mixed = view({"summary": summary, "reliability": [
        band(0.05, 0.01, 200), band(0.54, 0.80, 270)]})
    assert low["coverage"] == "49%/81%/91%" and low["brier"] == "0.183"
    assert "may be understated" in low["direction"] and "3 of 3 bands" in low["direction"]
    assert "may be overstated" in high["direction"]
    assert "no consistent direction" in mixed["direction"]
    assert view(None) is None and view({}) is None
    # and in which direction each group of series missed
    by_group = view({"summary": summary, "median_bias": [
        {"group": "Hangzhou", "above_median": 0.85, "n": 13},
        {"group": "panel: gdp", "above_median": 0.99, "n": 117}]})
    assert by_group["bias"] == [{"share": "85%", "n": 13, "group": "Hangzhou's own series"},
                                {"share": "99%", "n": 117, "group": "the peers' GDP"}]


def test_median_bias_counts_outcomes_above_the_median_per_group():
    from forecast.calibration import median_bias_table
    rows = pd.DataFrame({"group": ["a", "a", "a", "a", "b", "b"],
                         "pit": [0.9, 0.6, 0.4, 0.7, 0.2, 0.5]})
    table = median_bias_table(rows).set_index("group")
    assert table.loc["a", "above_median"] == 0.75 and table.loc["a", "n"] == 4
    assert table.loc["b", "above_median"] == 0.0  # 0.5 exactly is not above


def test_index_says_which_target_years_are_over_but_still_forecast():
    rows = [{"year": 2025, "p_in_year": 0.63}, {"year": 2027, "p_in_year": 0.52},
            {"year": 2025, "p_in_year": None}]
    assert render.currency(rows, "2026-11-27") == ("2025", "")
    assert render.currency(rows, "2025-06-30") == ("", "")
    out = [dict(rows[0], probably_out="gdp 2025; rd_intensity 2024, 2025")]
    assert render.currency(out, "2026-11-27") == ("2025", "gdp 2025; rd_intensity 2024, 2025")


def test_chance_spread_of_a_coverage():
    # 17 forecasts (R&D's own backtest): an exactly calibrated 80% interval covers 80% +- 19
    assert calibration.chance_spread(0.8, 17) == pytest.approx(0.19, abs=0.005)
    assert calibration.chance_spread(0.8, 54) == pytest.approx(0.107, abs=0.005)


def test_scenario_and_sensitivity_pages_say_their_paths_are_restated(shipped):
    from forecast.pipeline import forecast_indicator
    rd = forecast_indicator(shipped, "rd_intensity", models=tuple(FAST), n_paths=300,
                            backtest=False)
    line = reports.basis_line(rd)
    assert "read against gdp on its census-revised basis" in line
    assert format_probability(rd.basis.p_history_basis["rd_intensity_2027"]) in line
    lp = forecast_indicator(shipped, "labour_productivity", models=tuple(FAST), n_paths=300,
                            backtest=False)
    assert reports.basis_line(lp) == ""
    for name in ("scenario_explorer", "target_sensitivity"):
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert any("reports.basis_line(result)" in c.source for c in nb.cells)


def test_a_colour_says_which_stated_alternative_would_change_it():
    base = {"status": "probability", "p_in_year": 0.64, "p_members_min": 0.55,
            "p_members_max": 0.70}
    assert reports.colour_rests_on(base) == []  # every member in the same class: firm
    wide = reports.colour_rests_on(dict(base, p_members_min=0.32, p_members_max=0.99))
    assert wide == ["the choice of model (32% to 99%)"]
    ratio = reports.colour_rests_on(
        dict(base, p_at_ratio={"0.58": 0.94, "0.66": 0.74, "0.74": 0.20}))
    assert ratio == ["the employment ratio (94% at 0.58 / 20% at 0.74)"]
    restated = dict(base, p_in_year=0.09, p_members_min=0.04, p_members_max=0.17,
                    p_history_basis=0.635, basis_of="gdp")
    assert reports.colour_rests_on(restated) == [
        "the gdp census basis (64% if read on the pre-census basis, on which no figure will be "
        "published)"]
    # observed targets and rows without a probability have no such reading
    assert reports.colour_rests_on({"status": "observed", "p_in_year": None}) == []
    assert reports.colour_rests_on(dict(base, status="pace only")) == []


def test_the_summary_names_what_a_fragile_colour_rests_on(shipped):
    table = reports.summary_table(shipped, n_paths=400, seed=3,
                                  models=("rw_drift_level", "linear_trend")).set_index("target_id")
    lp = table.loc["labour_productivity_2027"]
    # at 0.74 employed per resident the 2027 target is far off, at 0.58 nearly certain
    classes = shipped.registry.plan.classes
    assert classes.of(lp["p_at_ratio"]["0.74"]) != classes.of(lp["p_in_year"])
    assert "the employment ratio" in lp["colour_rests_on"]
    page = render.summary_table_html(reports.records(table.reset_index()))
    assert f"its colour rests on {html.escape(lp['colour_rests_on'])}" in page
    # one line per fragile colour, none for a firm one
    assert page.count("its colour rests on") == table["colour_rests_on"].notna().sum() >= 1


def test_the_break_even_table_is_flat_and_formatted(shipped):
    """One readable row per target from the typed break-evens: no nested dicts, and no nan
    where a figure applies to one target and not the other (2025's employment growth
    showed as nan)."""
    from forecast.pipeline import forecast_indicator
    lp = forecast_indicator(shipped, "labour_productivity", models=FAST, n_paths=400,
                            backtest=False)
    frame = reports.diagnostics_frame(lp.break_even.values())
    assert list(frame["target"]) == ["labour_productivity_2025", "labour_productivity_2027"]
    assert {"P at ratio 0.58", "P at ratio 0.74", "GDP growth needed at 0.66"} <= set(frame)
    assert not frame.map(lambda v: isinstance(v, (dict, list))).any().any()
    assert not frame.map(lambda v: str(v).lower() in ("nan", "none", "nat")).any().any()
    held = lp.break_even["labour_productivity_2027"].p_at_ratio["0.74"]
    assert frame.set_index("target").loc["labour_productivity_2027", "P at ratio 0.74"] == \
        format_probability(held)


def test_a_hard_killed_runs_leftovers_are_cleared_and_a_moved_report_put_back(tmp_path):
    """SIGKILL cannot be caught: its staging folder stayed, and a kill while the new report
    was being swapped in would leave the previous one under a hidden name only."""
    dead = 2 ** 22 + 12345  # above the usual pid_max: no such process
    staging = tmp_path / f".{AS_OF}.tmp-{dead}"
    moved = tmp_path / f".{AS_OF}.old-{dead}"
    (staging / "notebooks").mkdir(parents=True)
    moved.mkdir()
    (moved / "index.html").write_text("previous report", encoding="utf-8")
    running = tmp_path / f".{AS_OF}.tmp-{os.getpid()}"  # a live run's folder is left alone
    running.mkdir()
    reports._recover_leftovers(tmp_path, AS_OF)
    assert not staging.exists() and not moved.exists() and running.exists()
    assert (tmp_path / AS_OF / "index.html").read_text(encoding="utf-8") == "previous report"
    # with a report in place, a moved-aside copy is only a leftover
    moved.mkdir()
    reports._recover_leftovers(tmp_path, AS_OF)
    assert not moved.exists() and (tmp_path / AS_OF / "index.html").is_file()


def test_report_arguments_are_checked_before_any_notebook_runs(tmp_path):
    # GDP has 25 years of history but no target: said so, not "no history"
    with pytest.raises(InputError, match=r"no target of the plan.*: gdp") as info:
        reports.build_report(AS_OF, tmp_path, indicators=["gdp"], progress=False)
    assert info.value.field == "indicators"
    # the calibration notebook's path count failed after a minute of the other notebooks
    with pytest.raises(InputError) as info:
        reports.build_report(AS_OF, tmp_path, indicators=["rd_intensity"], calibration_paths=0,
                             progress=False)
    assert info.value.field == "calibration_paths"
    assert list(tmp_path.iterdir()) == []


def test_probability_classes_are_the_plans_setting():
    """The 0.8 / 0.5 thresholds were constants in two files; they are a setting of the plan
    (settings.probability_classes) that the colours and the rests-on reading follow."""
    from forecast.plans import ProbabilityClasses
    strict = ProbabilityClasses(likely=0.9, balanced=0.6)
    row = {"status": "probability", "p_in_year": 0.85, "p_members_min": 0.82,
           "p_members_max": 0.95}
    assert reports.status_key(row) == "likely"
    assert reports.status_key(row, strict) == "balanced"
    assert reports.colour_rests_on(row) == []
    assert reports.colour_rests_on(row, strict) == ["the choice of model (82% to 95%)"]


@pytest.mark.slow
def test_a_misspelt_parameter_is_shown_as_its_message_alone(tmp_path):
    """``papermill ... -p scenaro x`` printed the right message at the end of a 68-line
    traceback through the notebook and forecast.reports; IPython now shows an InputError as
    its message (errors.InputError._render_traceback_), in the error papermill raises and
    prints and in the executed notebook, whose page a failed report renders."""
    out = tmp_path / "out.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as err:
        execute("indicator_forecast.ipynb", out, indicator="rd_intensity", scenaro="x", **SMALL)
    message = ("InputError: field 'scenaro': 'scenaro' is not a parameter of this notebook; "
               "did you mean 'scenario'? (expected: one of plan, lang, indicator, region, as_of, "
               "target_years, models, n_paths, seed, scenario)")
    assert err.value.traceback == [message]
    assert str(err.value).rstrip().splitlines()[-2:] == [
        f'Exception encountered at "In [{err.value.exec_count}]":', message]
    errors = [o for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert [e.traceback for e in errors] == [[message]]
    # forecast report's one line per failed notebook reads the same
    assert reports._short_error(err.value) == message


def test_the_plain_sentence_says_what_the_figure_is_and_why_there_is_no_number():
    """A target's sentence on the index and the brief: a preliminary published figure says a
    revision may change the verdict; a series that exists but is too short is not called
    missing."""
    from forecast.i18n import language

    plan = data.load_registry().plan
    base = {"indicator": "x", "name_en": "Thing", "name_zh": "事物", "unit": "%",
            "comparison": ">=", "target": 50.0, "year": 2025, "last_value": 48.0,
            "last_year": 2024}
    rows = [{**base, "target_id": "a", "status": "observed", "observed_value": 51.0,
             "observed_met": True, "observed_preliminary": True, "colour": "observed met"},
            {**base, "target_id": "b", "status": "not forecastable", "n_years": 2,
             "colour": "not forecastable"},
            {**base, "target_id": "c", "status": "not forecastable", "n_years": 0,
             "last_value": None, "last_year": None, "colour": "not forecastable"}]
    for lang in ("en", "zh"):
        said = {v.target_id: v.sentence for v in render.target_views(rows, plan, language(lang))}
        assert ("preliminary" if lang == "en" else "初步数") in said["a"]
        assert ("2 year(s), the last 2024" if lang == "en" else "2年，最新为2024年") in said["b"]
        assert ("no published series" if lang == "en" else "没有可用于预测") in said["c"]
        assert "nan" not in " ".join(said.values()).lower()
