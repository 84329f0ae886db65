"""Hostile and damaged model files: refused as ModelFileError, quickly and in little memory.

Every file here is at most 1 MB; each is refused (or, where documented, loaded)
in under a second and under 100 MB of extra memory, measured as the growth of
the process's peak resident memory (:func:`benchmarks.fuzz.peak_memory_growth`).
Then saving: atomic, durable, and refusing what load would refuse.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import struct
import threading
import time
import warnings
import zipfile
import zlib

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.pipeline import Pipeline

import skneuron
from benchmarks.fuzz import peak_memory_growth
from skneuron import TaskNeuronRegressor
from skneuron.persistence import ModelFileError, save

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

MAX_SECONDS, MAX_EXTRA_MB, MAX_FILE_BYTES = 1.0, 100.0, 2**20


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small fitted regressor with every kind of term, its file and the file's members."""
    X, y = make_regression(100, 3, random_state=0)
    reg = TaskNeuronRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0,
                              formula="x + sin(x) + inter(2, rank=2)", device="cpu").fit(X, y)
    path = tmp_path_factory.mktemp("model") / "base.skn"
    reg.save(path)
    with zipfile.ZipFile(path) as archive:
        manifest, weights = json.loads(archive.read("manifest.json")), archive.read("weights.pt")
    skneuron.load(path)  # every module the loader uses is imported before measuring
    _BASE[:] = [path]
    return reg, X, manifest, weights


def build(path, members) -> None:
    """A zip of ``(name, data[, compress_type])`` members, in order (duplicates allowed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w") as archive:
            for name, data, *method in members:
                archive.writestr(name, data, compress_type=method[0] if method else
                                 zipfile.ZIP_DEFLATED)


def tampered(manifest: dict, change) -> bytes:
    manifest = json.loads(json.dumps(manifest))
    change(manifest)
    return json.dumps(manifest).encode()


def with_weights(manifest: dict, weights: bytes) -> bytes:
    return tampered(manifest, lambda m: m.update(weights_sha256=hashlib.sha256(weights).hexdigest()))


def patch_bytes(path, edit) -> None:
    data = bytearray(path.read_bytes())
    edit(data)
    path.write_bytes(bytes(data))


def measure(function):
    """``(result or exception, seconds, growth of the peak memory in MB)`` of ``function()``."""
    start = time.perf_counter()
    with peak_memory_growth() as memory:
        try:
            outcome = function()
        except Exception as exc:  # noqa: BLE001 - the caller checks what it was
            outcome = exc
    return outcome, time.perf_counter() - start, memory["mb"]


def _bzip2(p, m, w):
    build(p, [("manifest.json", json.dumps(m).encode(), zipfile.ZIP_BZIP2), ("weights.pt", w)])


def _encrypted(p, m, w):
    build(p, [("manifest.json", json.dumps(m).encode()), ("weights.pt", w)])
    # zipfile cannot write the flag, so set bit 0 in the local and the central header
    patch_bytes(p, lambda data: [data.__setitem__(i, data[i] | 1) for i in
                                 (data.find(b"PK\x03\x04") + 6, data.find(b"PK\x01\x02") + 8)])


def _lying_size(p, m, w):
    build(p, [("manifest.json", json.dumps(m).encode() + b" " * 5_000_000), ("weights.pt", w)])

    def declare_small(data):  # the manifest claims 1000 bytes, in both headers
        central = data.find(b"PK\x01\x02")
        data[central + 24:central + 28] = struct.pack("<I", 1000)
        data[22:26] = struct.pack("<I", 1000)

    patch_bytes(p, declare_small)


def _corrupt_deflate(p, m, w):
    build(p, [("manifest.json", json.dumps(m).encode()), ("weights.pt", w)])
    patch_bytes(p, lambda data: data.__setitem__(slice(60, 90), bytes(30)))


def _inner_bomb(p, m, w):
    """weights.pt's own records deflated: torch would allocate their declared size."""
    inner = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(w)) as source, zipfile.ZipFile(inner, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.endswith("/data/0"):
                data += bytes(200_000_000)
            target.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
    w = inner.getvalue()
    build(p, [("manifest.json", with_weights(m, w)), ("weights.pt", w, zipfile.ZIP_STORED)])


def _weights_bomb(p, m, w):
    # 400 MB of zeros deflate to about 400 KB: four times the memory budget if inflated.
    w = w + bytes(400_000_000 - len(w))
    build(p, [("manifest.json", with_weights(m, w)), ("weights.pt", w)])


def _manifest_change(change):
    return lambda p, m, w: build(p, [("manifest.json", tampered(m, change)), ("weights.pt", w)])


def _deep_metadata(p, m, w):
    text = tampered(m, lambda m: m.update(metadata=None)).replace(
        b'"metadata": null', b'"metadata": ' + b"[" * 100_000 + b"]" * 100_000)
    build(p, [("manifest.json", text), ("weights.pt", w)])


def _with_tensors(change):
    """A file whose weights are ``change(tensors)``'s, saved by torch.save as ``save`` does."""
    def make(p, m, w):
        tensors = torch.load(io.BytesIO(w), weights_only=True)
        change(tensors, m)
        buffer = io.BytesIO()
        torch.save(tensors, buffer)
        w = buffer.getvalue()
        build(p, [("manifest.json", with_weights(m, w)), ("weights.pt", w, zipfile.ZIP_STORED)])
    return make


def _array_key(m, attribute):
    return m["model"]["fitted"][attribute]["array"]


def _replace_array(attribute, view):
    """The array of a fitted attribute replaced by ``view(array)``."""
    def change(tensors, m):
        key = _array_key(m, attribute)
        tensors["arrays"][key] = view(tensors["arrays"][key])
    return _with_tensors(change)


def _declare_hidden_layers(m, sizes):
    """Make the manifest declare the fitted network's hidden layers as ``sizes``
    (``_architecture``, which the network is rebuilt from)."""
    m["model"]["fitted"]["_architecture"]["tuple"][0] = {"tuple": list(sizes)}


def _huge_network_of_views(tensors, m):
    """hidden_layer_sizes=(20000, 20000), every new weight a stride-0 view of the right shape.

    Each view's numel() is that of the declared network, so a count of values
    passes; the file stores one value per weight (C4).
    """
    _declare_hidden_layers(m, (20000, 20000))
    reg = skneuron.load(_BASE[0])
    big = clone(reg)
    for name, value in vars(reg).items():
        if name.endswith("_") or name.startswith("_"):
            setattr(big, name, value)
    big._architecture = ((20000, 20000), *reg._architecture[1:])
    with torch.device("meta"):
        network = big._build_network(0)
    saved = tensors["networks"]["0"]
    state = {}
    for key, meta in network.state_dict().items():
        kept = saved.get(key)
        if kept is not None and kept.shape == meta.shape:
            state[key] = kept
        else:
            dtype = kept.dtype if kept is not None else meta.dtype
            state[key] = torch.zeros(1, dtype=dtype).expand(meta.shape) if meta.dim() else \
                torch.zeros((), dtype=dtype)
    tensors["networks"]["0"] = state


_BASE: list = []  # the model fixture's file, for makers that need the estimator


def _zip_of_entries(n: int, declared: int | None = None, comment: bytes = b""):
    """A zip whose directory lists one 1-byte member ``n`` times (47 bytes a record).

    ``declared`` is the count its end record gives (zipfile reads the records
    the directory's size holds, whatever the count says); ``comment`` follows it.
    """
    def make(p, m, w):
        crc = zlib.crc32(b"x")
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, 1, 1, 1, 0) + b"ax"
        record = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, 1, 1, 1,
                             0, 0, 0, 0, 0, 0) + b"a"
        count = min(n if declared is None else declared, 0xFFFF)
        end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(record) * n,
                          len(local), len(comment))
        p.write_bytes(local + record * n + end + comment)
    return make


#: The end of central directory record, the zip64 end record and its locator (APPNOTE.TXT
#: 4.3.16, 4.3.14, 4.3.15).
_END, _ZIP64_END, _ZIP64_LOCATOR = (struct.Struct("<4s4H2LH"), struct.Struct("<4sQ2H2L4Q"),
                                    struct.Struct("<4sLQL"))


def _end_fields(data: bytes) -> list[int]:
    """Entries on this disk, entries, directory size and offset of a zip without a comment."""
    return list(_END.unpack_from(data, len(data) - _END.size)[3:7])


def _ending(data: bytes, *fields: int, zip64=None, locator_at=None) -> bytes:
    """``data`` (a zip without a comment) with an end record of these four ``fields``, after
    a zip64 end record of the four ``zip64`` values and a locator pointing at
    ``locator_at`` (where that record is, by default) if ``zip64`` is given."""
    start = len(data) - _END.size
    records = b"" if zip64 is None else (
        _ZIP64_END.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, *zip64)
        + _ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, start if locator_at is None else locator_at, 1))
    return data[:start] + records + _END.pack(b"PK\x05\x06", 0, 0, *fields, 0)


def _edited(edit):
    """The model's file with its bytes replaced by ``edit(bytes)``."""
    def make(p, m, w):
        build(p, [("manifest.json", json.dumps(m).encode()), ("weights.pt", w)])
        p.write_bytes(edit(p.read_bytes()))
    return make


def _encoder(categories: list, max_categories: int = 50) -> dict:
    """A TabularEncoder of one text column ``c``, as a model file holds it."""
    return {"class": "TabularEncoder", "params": {"max_categories": max_categories},
            "fitted": {"feature_names_in_": {"items": ["c"], "dtype": "|O"}, "n_features_in_": 1,
                       "medians_": {"dict": {}}, "categories_": {"dict": {"c": categories}}}}


def _as_pipeline(*steps):
    """The model replaced by a pipeline of ``(name, step)``; a step None is the regressor."""
    return _manifest_change(lambda m: m.update(model={"pipeline": [
        [name, m["model"] if step is None else step] for name, step in steps]}))


HOSTILE = {
    # issue 19, item 4: small files that cost huge memory
    "manifest zip bomb": (lambda p, m, w: build(p, [
        ("manifest.json", b" " * 300_000_000 + json.dumps(m).encode()), ("weights.pt", w)]),
        "manifest.json takes 300,00.* bytes, more than .* \\(MAX_MANIFEST_BYTES\\)"),
    "weights zip bomb": (_weights_bomb, "expands .* \\(MAX_COMPRESSION_RATIO\\)"),
    "hidden_layer_sizes=(8000, 8000)": (_manifest_change(
        lambda m: _declare_hidden_layers(m, (8000, 8000))), "do not fit the network .* too few"),
    "label dtype <U1000000": (_manifest_change(lambda m: m["model"]["fitted"].update(
        labels_={"items": ["a"] * 200, "dtype": "<U1000000"})), "MAX_TEXT_ARRAY_BYTES"),
    "duplicate members": (lambda p, m, w: build(p, [
        ("manifest.json", json.dumps(m).encode()), ("weights.pt", w), ("weights.pt", w)]),
        "duplicate members"),
    "lying member size": (_lying_size, "Bad CRC-32"),
    "deflated records inside weights.pt": (_inner_bomb, "records are compressed"),
    # issue 19, item 5: undocumented exception types
    "corrupt deflate data (zlib.error)": (_corrupt_deflate, "Error -3 while decompressing"),
    "bzip2 member (NotImplementedError)": (_bzip2, "compressed with method 12"),
    "encrypted member (RuntimeError)": (_encrypted, "is encrypted"),
    "JSON nested 100 000 deep (RecursionError)": (_deep_metadata, "MAX_JSON_DEPTH"),
    "format_version true": (_manifest_change(lambda m: m.update(format_version=True)),
                            "format version True is not a format version"),
    "format_version -5": (_manifest_change(lambda m: m.update(format_version=-5)),
                          "format version -5 is not a format version"),
    "device meta": (_manifest_change(lambda m: m["model"]["fitted"].update(
        device_={"device": "meta"})), "unknown device 'meta'"),
    "device bogus": (_manifest_change(lambda m: m["model"]["fitted"].update(
        device_={"device": "bogus"})), "unknown device 'bogus'"),
    # issue 19, items 1, 2 and 6 through a model file
    "formula term with full-width subs": (_manifest_change(lambda m: m["model"]["fitted"].update(
        formula_={"formula": {"functions": ["x.\uff53\uff55\uff42\uff53(x, '\\137\\137')"]}})),
        "invalid formula term"),
    "formula parameter with a power tower": (_manifest_change(
        lambda m: m["model"]["params"].update(formula="x*9**9**8")), "MAX_POWER"),
    "formula term nested 20 deep": (_manifest_change(lambda m: m["model"]["fitted"].update(
        formula_={"formula": {"functions": ["sin(" * 20 + "x" + ")" * 20]}})), "MAX_DEPTH"),
    # bug bash C1, C2: numbers sympy would take minutes, gigabytes or for ever to read
    "formula parameter 1e99999999999*x": (_manifest_change(
        lambda m: m["model"]["params"].update(formula="1e99999999999*x")), "MAX_CONSTANT"),
    "formula term x*1e-9999999": (_manifest_change(lambda m: m["model"]["fitted"].update(
        formula_={"formula": {"functions": ["x*1e-9999999"]}})), "MAX_CONSTANT"),
    "formula term abs(x-exp(x-1e12))": (_manifest_change(lambda m: m["model"]["fitted"].update(
        formula_={"formula": {"functions": ["abs(x-exp(x-1e12))"]}})), "MAX_CONSTANT"),
    # bug bash H1: terms that read back otherwise would take other terms' weights
    "formula term not in canonical form": (_manifest_change(lambda m: m["model"]["fitted"][
        "formula_"]["formula"].update(functions=["2*sin(x)"])), "read back as \\('sin\\(x\\)',\\)"),
    "rank 10**6": (_manifest_change(lambda m: m["model"]["params"].update(rank=10**6)),
                   "'rank' parameter .* \\[1, 1024\\]"),
    "formula rank 10**6": (_manifest_change(lambda m: m["model"]["fitted"]["formula_"][
        "formula"].update(rank=10**6)), "MAX_RANK"),
    "n_features_in_ 0 (ZeroDivisionError)": (_manifest_change(lambda m: m["model"]["fitted"].update(
        n_features_in_=0)), "n_features_in_ must be a positive integer"),
    "many JSON values": (_manifest_change(lambda m: m.update(metadata={"dict": {"k": [[]] * 150_000}})),
                         "MAX_JSON_VALUES"),
    # C3: a stride-0 view saved whole by torch.save (one stored value); copying it
    # allocated 128 GiB (MemoryError), or 2 GiB resident for 2**28 values
    "array a stride-0 view of 2**34 values": (
        _replace_array("_target_mean", lambda a: torch.zeros(1, dtype=a.dtype).expand(2**34)),
        r"array \d+ is a view of shape \(17179869184,\) on 8 stored bytes"),
    "array a stride-0 view of 2**28 values": (
        _replace_array("_target_mean", lambda a: torch.zeros(1, dtype=a.dtype).expand(2**28)),
        r"is a view of shape \(268435456,\)"),
    "array a view at an offset of a larger storage": (
        _replace_array("_target_mean", lambda a: torch.cat([torch.zeros(1000), a])[1000:]),
        r"is a view of shape \(1,\) on 8,008 stored bytes"),
    "array a non-contiguous view": (
        _replace_array("_target_mean", lambda a: torch.zeros(2, 3, dtype=a.dtype).T),
        r"is a view of shape \(3, 2\) on 48 stored bytes"),
    "arrays sharing one storage": (_with_tensors(lambda t, m: t["arrays"].update(
        {_array_key(m, "_target_scale"): t["arrays"][_array_key(m, "_target_mean")]})),
        "shares its stored values with"),
    # C4: a declared network of 2 x 20000 units whose weights are stride-0 views
    "hidden_layer_sizes=(20000, 20000) of stride-0 weights": (
        _with_tensors(_huge_network_of_views), r"network 0's .* is a view of shape"),
    # review: the input stage read its columns by the layout it was built with, and the
    # file's other layout went unnoticed (predictions from the wrong columns)
    "input stage reading its columns in another order": (_with_tensors(
        lambda t, m: t["networks"]["0"].update({"inputs.numeric": t["networks"]["0"][
            "inputs.numeric"].flip(0)})), r"inputs.numeric: the state's column layout \[2, 1, 0\]"),
    # fitted attributes of the wrong type, which predict and inspect read
    "discovery_ text": (_manifest_change(lambda m: m["model"]["fitted"].update(discovery_="td")),
                        "discovery_ must be a DiscoveryResult or None; got str 'td'"),
    "loss_curve_ missing": (_manifest_change(lambda m: m["model"]["fitted"].pop("loss_curve_")),
                            "fitted attribute loss_curve_ is missing"),
    "loss_curve_ nested": (_manifest_change(lambda m: m["model"]["fitted"].update(
        loss_curve_=[[1], [2]])), r"loss_curve_ must be a list of numbers; got list \[\[1\]"),
    "n_iter_ a list": (_manifest_change(lambda m: m["model"]["fitted"].update(n_iter_=[1])),
                       "n_iter_ must be a non-negative integer; got list"),
    "_target_mean None": (_manifest_change(lambda m: m["model"]["fitted"].update(
        _target_mean=None)), "_target_mean must be a 1-D array of floats; got NoneType"),
    "metadata a list": (_manifest_change(lambda m: m.update(metadata=[1, 2])),
                        "its metadata is a list, not a mapping"),
    # review: names.count per member was quadratic (4.2 s for 65 535 entries)
    "zip directory of 20 000 entries": (_zip_of_entries(20_000),
                                        "declares 20,000 entries in 940,000 bytes.*MAX_MEMBERS"),
    "zip directory of 20 000 entries declaring 2": (
        _zip_of_entries(20_000, declared=2), "declares 2 entries in 940,000 bytes.*MAX_MEMBERS"),
    "zip directory of 20 000 entries behind a 65 535-byte comment": (
        _zip_of_entries(20_000, comment=b"c" * 0xFFFF), "declares 20,000 entries in 940,000"),
    # review: the end records parsed without zipfile's private functions, and checked
    "zip end record cut short": (_edited(lambda d: d[:-1]), "has no zip end record"),
    "zip end record of 2 entries, 3 on its disk": (_edited(
        lambda d: _ending(d, 3, *_end_fields(d)[1:])), "declares 2 entries, 3 of them on this"),
    "zip directory larger than the file": (lambda p, m, w: p.write_bytes(
        _END.pack(b"PK\x05\x06", 0, 0, 2, 2, 900, 0, 0)),
        "directory of 900 bytes at offset 0 runs past its end record at 0"),
    "zip64 end record of 2**40 entries": (_edited(lambda d: _ending(
        d, *_end_fields(d), zip64=[2**40, 2**40, *_end_fields(d)[2:]])),
        "declares 1,099,511,627,776 entries in .*MAX_MEMBERS"),
    "zip64 end record not where its locator puts it": (_edited(lambda d: _ending(
        d, *_end_fields(d), zip64=_end_fields(d), locator_at=0)), "locator does not point at"),
    # review: pipelines that loaded, then failed in predict or made it allocate gigabytes
    "pipeline of two estimators": (_as_pipeline(("a", None), ("b", None)),
                                   r"Pipeline has steps \['TaskNeuronRegressor', 'TaskNeuronRegr"),
    "pipeline of an encoder alone": (_as_pipeline(("enc", _encoder(["a"]))),
                                     "not TabularEncoder steps followed by one skneuron estimator"),
    "pipeline step named a__b": (_as_pipeline(("a__b", None)), r"step names \['a__b'\]"),
    "pipeline steps of one name": (_as_pipeline(("s", _encoder(["a"])), ("s", None)),
                                   r"step names \['s', 's'\], not distinct"),
    "pipeline encoder outputs 2 columns, estimator fitted on 3": (
        _as_pipeline(("enc", _encoder(["a", "b"])), ("reg", None)),
        "step 'enc' outputs 2 columns, but the next step was fitted on 3"),
    "encoder with more categories than max_categories": (
        _as_pipeline(("enc", _encoder(["a", "b", "c"], max_categories=2)), ("reg", None)),
        "column 'c' has 3 categories, more than its max_categories=2"),
    "encoder with 40 000 categories": (
        _as_pipeline(("enc", _encoder([str(i) for i in range(40_000)])), ("reg", None)),
        "column 'c' has 40,000 categories, more than its max_categories=50"),
    "encoder with a category repeated": (_as_pipeline(("enc", _encoder(["a", "a", "b"])),
                                          ("reg", None)), "do not fit together"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_are_refused_quickly_in_little_memory(model, tmp_path, name):
    make, message = HOSTILE[name]
    path = tmp_path / "hostile.skn"
    make(path, json.loads(json.dumps(model[2])), model[3])
    assert path.stat().st_size <= MAX_FILE_BYTES
    outcome, seconds, extra = measure(lambda: skneuron.load(path))
    assert isinstance(outcome, ModelFileError), repr(outcome)
    assert isinstance(outcome, ValueError)
    assert str(path) in str(outcome)
    assert len(str(outcome).splitlines()) == 1
    assert re.search(message, str(outcome)), str(outcome)
    assert seconds < MAX_SECONDS and extra < MAX_EXTRA_MB, (seconds, extra)


def test_a_zip_directory_of_65535_entries_is_refused_before_it_is_read(model, tmp_path):
    """A 3 MB file: zipfile takes 0.3 s to read its directory, the old check 4 s more."""
    path = tmp_path / "entries.skn"
    _zip_of_entries(65_535)(path, None, None)
    outcome, seconds, _ = measure(lambda: skneuron.load(path))
    assert isinstance(outcome, ModelFileError) and "MAX_MEMBERS" in str(outcome), repr(outcome)
    assert seconds < 0.05, seconds


def test_the_zip_directory_is_bounded_without_zipfile_private_names(model, tmp_path,
                                                                   monkeypatch):
    """The check once read the end record with ``zipfile._EndRecData``, and was skipped
    where that was missing; it parses the record itself."""
    path = tmp_path / "entries.skn"
    _zip_of_entries(65_535)(path, None, None)
    monkeypatch.delattr(zipfile, "_EndRecData")
    outcome, seconds, _ = measure(lambda: skneuron.load(path))
    assert isinstance(outcome, ModelFileError), repr(outcome)
    assert "declares 65,535 entries" in str(outcome), str(outcome)
    assert seconds < 0.05, seconds


@pytest.mark.parametrize("writer", ["zipfile", "0xFFFF in the end record"])
def test_a_zip64_model_file_loads(model, tmp_path, monkeypatch, writer):
    """zipfile writes zip64 end records for more than 65 535 members; the check reads their
    values (the end record's 0xFFFF alone would be refused)."""
    reg, X, *_ = model
    path = tmp_path / "zip64.skn"
    if writer == "zipfile":
        with monkeypatch.context() as patch:
            patch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)  # as if it wrote 65 536 members
            reg.save(path)
    else:
        reg.save(path)
        data = path.read_bytes()
        path.write_bytes(_ending(data, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF,
                                 zip64=_end_fields(data)))
    data = path.read_bytes()
    assert data.startswith(b"PK\x06\x06", len(data) - _END.size - 20 - _ZIP64_END.size)
    np.testing.assert_array_equal(skneuron.load(path).predict(X), reg.predict(X))


def test_a_model_file_with_the_longest_zip_comment_loads(model, tmp_path):
    """The end record is found behind a comment of 65 535 bytes, the most it may have."""
    reg, X, *_ = model
    path = tmp_path / "comment.skn"
    reg.save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.comment = b"c" * 0xFFFF
    np.testing.assert_array_equal(skneuron.load(path).predict(X), reg.predict(X))


@pytest.mark.parametrize("filler", [b"[]", b"0", b'""', b'{"tuple": []}'])
def test_the_largest_manifest_allowed_still_loads_quickly(model, tmp_path, filler):
    """Up to the value limit, the worst JSON costs well under the budgets."""
    n = 195_000 // (1 + filler.count(b"[") + filler.count(b"{"))  # values as counted
    body = b'{"dict": {"k": [' + b",".join([filler] * n) + b"]}}"
    text = tampered(model[2], lambda m: m.update(metadata=None)).replace(
        b'"metadata": null', b'"metadata": ' + body)
    path = tmp_path / "big.skn"
    build(path, [("manifest.json", text), ("weights.pt", model[3])])
    outcome, seconds, extra = measure(lambda: skneuron.load(path))
    assert isinstance(outcome, TaskNeuronRegressor), repr(outcome)
    assert seconds < MAX_SECONDS and extra < MAX_EXTRA_MB, (seconds, extra)


def test_an_absent_gpu_loads_on_the_cpu_with_a_warning(model, tmp_path, fake_gpus):
    fake_gpus(0)  # with a GPU, cuda:7 would load on it (tests/test_device.py)
    reg, X, manifest, weights = model
    path = tmp_path / "gpu.skn"
    build(path, [("manifest.json", tampered(manifest, lambda m: m["model"]["fitted"].update(
        device_={"device": "cuda:7"}))), ("weights.pt", weights)])
    with pytest.warns(UserWarning, match="trained on CUDA, which is not available here"):
        restored = skneuron.load(path)
    assert str(restored.device_) == "cpu"
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


def test_every_truncation_is_a_model_file_error(model, tmp_path):
    path = tmp_path / "m.skn"
    model[0].save(path)
    data = path.read_bytes()
    for end in sorted({0, 1, 4, 22, 100, len(data) // 2, len(data) - 22, len(data) - 1}):
        (tmp_path / "cut.skn").write_bytes(data[:end])
        with pytest.raises(ModelFileError):
            skneuron.load(tmp_path / "cut.skn")


def test_a_memory_error_while_loading_is_a_model_file_error(model, tmp_path, monkeypatch):
    """Whatever runs out of memory, load's caller gets its one documented exception."""
    from skneuron import persistence

    path = tmp_path / "m.skn"
    model[0].save(path)

    def short_of_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 128. GiB")

    for target, name in ((persistence._Decoder, "_array"), (torch, "load")):
        with monkeypatch.context() as patch:
            patch.setattr(target, name, short_of_memory)
            with pytest.raises(ModelFileError, match="not enough memory to load it") as caught:
                skneuron.load(path)
        assert str(path) in str(caught.value) and len(str(caught.value).splitlines()) == 1


#: What torch raises when an allocation fails: on the CPU, and on a GPU.
TORCH_OUT_OF_MEMORY = [
    RuntimeError("[enforce fail at alloc_cpu.cpp:117] . DefaultCPUAllocator: can't allocate "
                 "memory: you tried to allocate 12884901888 bytes. Error code 12"),
    torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 12.00 GiB"),
]


@pytest.mark.parametrize("error", TORCH_OUT_OF_MEMORY, ids=["allocator", "OutOfMemoryError"])
def test_torch_running_out_of_memory_while_loading_is_the_memory_error(model, tmp_path,
                                                                        monkeypatch, error):
    """Not 'refusing to load its weights, which hold more than tensors' (nor 'not a skneuron
    model file'): the file is fine, this machine is short of memory."""
    from skneuron import persistence

    path = tmp_path / "m.skn"
    model[0].save(path)

    def short_of_memory(*args, **kwargs):
        raise error

    for target, name in ((torch, "load"), (persistence._Decoder, "_array"),
                         (TaskNeuronRegressor, "_restore_fitted")):
        with monkeypatch.context() as patch:
            patch.setattr(target, name, short_of_memory)
            with pytest.raises(ModelFileError, match="not enough memory to load it") as caught:
                skneuron.load(path)
        message = str(caught.value)
        assert str(path) in message and type(error).__name__ in message
        assert "more than tensors" not in message and len(message.splitlines()) == 1


def test_other_runtime_errors_of_torch_load_still_refuse_the_weights(model, tmp_path,
                                                                     monkeypatch):
    path = tmp_path / "m.skn"
    model[0].save(path)

    def fails(*args, **kwargs):
        raise RuntimeError("PytorchStreamReader failed reading zip archive")

    monkeypatch.setattr(torch, "load", fails)
    with pytest.raises(ModelFileError, match="refusing to load its weights, which hold more "
                                             "than tensors"):
        skneuron.load(path)


def test_a_network_with_a_non_contiguous_parameter_saves_it_as_a_tensor_of_its_own(model,
                                                                                  tmp_path):
    """save copies what load would refuse: a parameter that is a view."""
    reg, X = clone(model[0]).fit(*make_regression(100, 3, random_state=0)), model[1]
    expected = reg.predict(X)
    parameters = dict(reg.network_.named_parameters())
    name, weight = next((n, p) for n, p in parameters.items() if p.dim() == 3)
    with torch.no_grad():  # the same values, stored transposed: a non-contiguous view
        weight.data = weight.data.transpose(0, 1).contiguous().transpose(0, 1)
    assert not weight.is_contiguous()
    path = tmp_path / "m.skn"
    reg.save(path)
    np.testing.assert_array_equal(skneuron.load(path).predict(X), expected)


def test_manifest_shapes_are_compared_with_the_tensors_before_building(model, tmp_path):
    """A manifest whose declared network matches no saved tensor is refused by shape."""
    _, _, manifest, weights = model
    path = tmp_path / "m.skn"
    build(path, [("manifest.json", tampered(manifest, lambda m: _declare_hidden_layers(m, (9,)))),
                 ("weights.pt", weights)])
    with pytest.raises(ModelFileError, match=r"do not fit the network .*saved \(\((4, )?8"):
        skneuron.load(path)


# ------------------------------------------------------------------ saving
def test_a_failed_save_leaves_the_previous_file_intact(model, tmp_path, monkeypatch):
    reg, X, _, _ = model
    path = tmp_path / "m.skn"
    reg.save(path)
    before = path.read_bytes()

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        reg.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.skn"]  # no temporary file left behind


def test_an_interrupted_save_leaves_the_previous_file_intact(model, tmp_path, monkeypatch):
    reg, _, _, _ = model
    path = tmp_path / "m.skn"
    reg.save(path)
    before = path.read_bytes()
    original = zipfile.ZipFile.writestr

    def interrupted(self, name, *args, **kwargs):
        if str(getattr(name, "filename", name)) == "weights.pt":
            raise KeyboardInterrupt
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reg.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.skn"]


def test_concurrent_saves_leave_one_complete_file(tmp_path):
    X, y = make_regression(60, 2, random_state=0)
    models = [TaskNeuronRegressor(hidden_layer_sizes=(h,), max_iter=2, random_state=0).fit(X, y)
              for h in (3, 5, 7, 9)]
    path = tmp_path / "shared.skn"
    for _ in range(3):
        threads = [threading.Thread(target=save, args=(m, path)) for m in models]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        loaded = skneuron.load(path)
        assert loaded.hidden_layer_sizes in {(3,), (5,), (7,), (9,)}
        assert os.listdir(tmp_path) == ["shared.skn"]


def test_save_refuses_directories_and_special_files_before_writing(model, tmp_path):
    reg = model[0]
    with pytest.raises(IsADirectoryError):
        reg.save(tmp_path)
    if os.path.exists("/dev/full"):
        with pytest.raises(OSError, match="not a regular file"):
            reg.save("/dev/full")
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # still the device
    with pytest.raises(FileNotFoundError, match=r"No such directory: .*such.?dir'$"):
        reg.save(tmp_path / "no" / "such" / "dir" / "m.skn")  # the directory, not a temp file
    assert os.listdir(tmp_path) == []


def test_a_new_file_gets_the_usual_permissions(model, tmp_path):
    model[0].save(tmp_path / "m.skn")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "m.skn").st_mode) == 0o666 & ~umask


def test_save_refuses_what_load_would_refuse(model, tmp_path):
    deep = {"a": []}
    for _ in range(70):
        deep = {"a": deep}
    with pytest.raises(ValueError, match="MAX_JSON_DEPTH"):
        save(model[0], tmp_path / "m.skn", metadata=deep)
    with pytest.raises(ValueError, match="MAX_MANIFEST_BYTES"):
        save(model[0], tmp_path / "m.skn", metadata={"notes": "x" * 3_000_000})
    with pytest.raises(ValueError, match="not TabularEncoder steps followed by one skneuron est"):
        save(Pipeline([("a", model[0]), ("b", model[0])]), tmp_path / "m.skn")
    assert not (tmp_path / "m.skn").exists()
