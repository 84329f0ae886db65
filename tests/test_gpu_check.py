"""``python -m benchmarks.gpu_check``: skips without a GPU; its checks run with the CPU standing in."""

import warnings

import pytest
import torch

from benchmarks import gpu_check
from benchmarks.gpu_check import Check, Settings


def test_it_skips_cleanly_without_a_gpu(tmp_path, capsys, fake_gpus):
    fake_gpus(0)
    out = tmp_path / "gpu.md"
    assert gpu_check.main(["--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == gpu_check.SKIPPED
    assert not out.exists()


@pytest.fixture(scope="module")
def cpu_run():
    return gpu_check.run("cpu", Settings.small(), log=lambda line: None)


def test_every_check_passes_with_the_cpu_standing_in_for_the_gpu(cpu_run):
    checks, figures = cpu_run
    assert [c.name for c in checks if not c.passed] == []
    names = "\n".join(c.name for c in checks)
    for part in ["regressor TD: fit on cpu vs CPU refit", "classifier SR: same formula",
                 "live model kept after pickling", "pickle, on the CPU", "deepcopy", "save/load",
                 "TorchScript export", "ONNX export", "GridSearchCV on cpu vs CPU"]:
        assert part in names, part
    assert "classifier TD: ONNX export" in names and "SR: ONNX" not in names  # round_trips
    assert [c for c in checks if "ONNX" in c.name and c.note] == []  # evaluated, not skipped
    assert len(figures) == 2 and {f["device"] for f in figures} == {"cpu"}
    assert all(f["fit_rows_per_s"] > 0 and f["predict_rows_per_s"] > 0 for f in figures)


def test_the_report_holds_every_check_and_the_throughput(cpu_run):
    checks, figures = cpu_run
    text = gpu_check.report("cpu", checks, figures, seconds=12.0)
    assert f"{len(checks)} of {len(checks)} checks passed" in text
    assert text.count("\n| ") == len(checks) + len(figures) + 2  # two header rows
    assert "| cpu | 2,000 | 500 |" in text


def test_a_device_the_machine_lacks_is_a_usage_error(capsys, fake_gpus):
    fake_gpus(1)
    with pytest.raises(SystemExit) as exit_info:
        gpu_check.main(["--device", "cuda:3"])
    assert exit_info.value.code == 2
    assert "this machine has 1 CUDA device" in capsys.readouterr().err


def test_a_failed_check_fails_the_command_and_the_tables_are_written(monkeypatch, tmp_path,
                                                                     fake_gpus):
    fake_gpus(1)  # torch reports a GPU; the checks themselves are stood in for
    failing = [Check("a check", 1.0, 0.0), Check("another", 0.0, 0.0)]
    monkeypatch.setattr(gpu_check, "run", lambda device, settings: (failing, []))
    out = tmp_path / "results" / "gpu.md"
    assert gpu_check.main(["--device", "cpu", "--out", str(out)]) == 1
    assert "1 of 2 checks passed" in out.read_text()


def test_a_compile_that_falls_back_fails_its_check(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no compiler for this device")

    monkeypatch.setattr(torch, "compile", lambda function, **options: broken)
    settings = Settings.small()
    regression = gpu_check.problems(settings)["regressor"]
    monkeypatch.setattr(gpu_check, "problems", lambda s: {"regressor": regression})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checks, fitted = gpu_check.fit_checks(
            "cpu", Settings(**{**vars(settings), "fits": (("td", True),)}), log=lambda _: None)
    flagged = [c for c in checks if "compiled: same formula" in c.name]
    assert len(flagged) == 1 and not flagged[0].passed
    assert "torch.compile failed" in flagged[0].note


@pytest.mark.gpu
def test_the_checks_pass_on_a_real_gpu():
    """``pytest --gpu -m gpu``: the checks at small sizes, on CUDA itself."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    settings = Settings(**{**vars(Settings.small()),
                           "fits": (("td", False), ("td", True), ("sr", False))})
    checks, figures = gpu_check.run("cuda", settings, log=lambda line: None)
    assert [(c.name, c.difference, c.note) for c in checks if not c.passed] == []
    assert {f["device"] for f in figures} == {"cuda", "cpu"}
