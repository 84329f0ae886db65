"""Fuzzing the formula parser and the model-file loader (issue 19).

Feeds :meth:`skneuron.NeuronFormula.parse` random formula strings (grammar-built
terms, token soups with Python and sympy escapes, mutated formulas, random
Unicode) and :func:`skneuron.load` mutated model files (byte flips and cuts,
zip members duplicated, dropped, recompressed or flagged encrypted, manifest
values replaced by hostile ones with the checksum kept valid, weights
replaced by pickles or odd tensors), and reports for each input:

- **code execution**: an audit hook (:func:`sys.addaudithook`) sees ``exec``,
  ``compile``, ``os.system``, ``subprocess.Popen``, ``pickle.find_class`` and
  the like while the input is read, or a planted payload runs (it appends to
  :data:`PAYLOAD_RUNS`);
- **time**: the slowest input, and how many took over 2 s (a watchdog stops
  an input at 10 s);
- **errors**: anything raised but the documented types —
  :class:`~skneuron.FormulaSyntaxError` for formulas,
  :class:`~skneuron.persistence.ModelFileError` for model files;
- **memory** (model files, Linux): the largest growth of the peak resident
  memory while one file loads (``/proc/self/clear_refs`` resets the peak).

Run ``python -m benchmarks.fuzz [--formulas 100000] [--files 10000] [--seed 0]``;
the table is printed and written to ``benchmarks/results/fuzz.md``.
``tests/test_fuzz.py`` runs the same checks briefly under hypothesis.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import signal
import sys
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import skneuron
from skneuron import FormulaSyntaxError, NeuronFormula
from skneuron._elementwise import compile_elementwise
from skneuron.persistence import ModelFileError, save

RESULTS = Path(__file__).parent / "results" / "fuzz.md"
#: An input slower than this is a hang.
HANG_SECONDS = 2.0
#: The watchdog stops an input after this long.
WATCHDOG_SECONDS = 10.0

#: Audit events that mean code ran that no input should reach.
CODE_EVENTS = frozenset({
    "exec", "compile", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
    "os.forkpty", "subprocess.Popen", "ctypes.dlopen", "ctypes.dlsym", "pickle.find_class",
    "builtins.breakpoint", "webbrowser.open", "socket.connect",
})
#: Appended to by :func:`payload`, which planted inputs try to call.
PAYLOAD_RUNS: list[str] = []


def payload(*args) -> None:
    """What a planted input calls if it gets to run code."""
    PAYLOAD_RUNS.append(repr(args)[:80])


class _Payload:
    """Unpickling this calls :func:`payload`: planted in weights files."""

    def __reduce__(self):
        return (payload, ("pickle",))


class CodeWatch:
    """Records code-execution audit events while active (an audit hook cannot be removed)."""

    _instance: CodeWatch | None = None

    def __init__(self):
        self.events: list[tuple[str, str]] = []
        self.active = False

    @classmethod
    def get(cls) -> CodeWatch:
        if cls._instance is None:
            cls._instance = cls()
            sys.addaudithook(cls._instance._hook)
        return cls._instance

    @contextlib.contextmanager
    def watching(self):
        self.active = True
        try:
            yield
        finally:
            self.active = False

    def _hook(self, event: str, args) -> None:
        if not self.active or _is_module_import(event, args):
            return
        if event in CODE_EVENTS or event.startswith(("os.exec", "os.spawn")):
            self.events.append((event, repr(args)[:120]))


def _is_module_import(event: str, args) -> bool:
    """Whether an ``exec``/``compile`` event runs a module's file: a lazy import, not input."""
    if event == "exec" and args and hasattr(args[0], "co_filename"):
        code = args[0]
        return code.co_name == "<module>" and os.path.isfile(code.co_filename)
    if event == "compile" and len(args) > 1 and isinstance(args[1], str):
        return args[1].endswith(".py") and os.path.isfile(args[1])
    return False


# ----------------------------------------------------------------- formulas
#: Fragments of hostile or odd formula text: Python and sympy escapes, Unicode
#: that normalises to names, huge numbers, deep nesting, and the language itself.
HOSTILE_FRAGMENTS = (
    "__import__('benchmarks.fuzz').payload()", "x.subs(x, '\\137\\137import\\137\\137')",
    "\uff53\uff55\uff42\uff53", "\uff58", "Symbol('y')", "lambda: 0", "eval", "exec", "open",
    "x.__class__", "[].__class__", "().__class__.__bases__[0]", "getattr", "globals()", "'",
    '"', "\\", "\\x5f", ";", ":", "{", "}", "[", "]", "@", "!", "`", "#", "\n", "\t", "\x00",
    "9**9**9", "x**99999", "x**150", "2**-1074", "1e400", "1e-400", "9" * 40, "0x1F",
    "inter(2000)", "inter(2, rank=1000000)", "inter(-1)", "inter(2.5)", "rank=3",
    "sin(" * 30, ")" * 30, "(" * 12, "x" * 50, "\u00b2", "\u2212", "\u00d7", "\ufb03", "\u3371",
    "\u200b", "\u202e", "\U0001f600", "\u03c3(", "E", "pi", "I", "oo", "zoo", "nan", "Abs",
)
FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "tanh", "sqrt", "abs", "Abs", "foo", "subs")
OPERATORS = ("+", "-", "*", "/", "**", "^")


def grammar_term(rng: random.Random, depth: int = 0, hostile: float = 0.1) -> str:
    """A random expression of the formula language, now and then deep or with odd pieces.

    ``hostile`` is the share of leaves (and function names) taken from outside
    the language.
    """
    roll = rng.random()
    if depth > rng.randint(1, 12) or roll < 0.3:
        return _leaf(rng, hostile)
    if roll < 0.5:
        name = rng.choice(FUNCTIONS if rng.random() < hostile else FUNCTIONS[:9])
        return f"{name}({grammar_term(rng, depth + 1, hostile)})"
    if roll < 0.6:
        return f"({grammar_term(rng, depth + 1, hostile)})"
    if roll < 0.7:
        return f"-{grammar_term(rng, depth + 1, hostile)}"
    operator = rng.choice(OPERATORS)
    if operator in ("**", "^") and rng.random() < 0.8:
        right = str(rng.choice([2, 2, 3, 3, 4, -1, -2, 0.5] + [16, 17, 99999] * (hostile > 0)))
    else:
        right = grammar_term(rng, depth + 1, hostile)
    return f"{grammar_term(rng, depth + 1, hostile)}{operator}{right}"


def _leaf(rng: random.Random, hostile: float) -> str:
    roll = rng.random()
    if roll < hostile:
        return rng.choice(HOSTILE_FRAGMENTS)
    if roll < 0.6:
        return "x"
    if roll < 0.8:
        return str(rng.randint(0, 20))
    return f"{rng.uniform(-5, 5):.3g}"


def grammar_formula(rng: random.Random, hostile: float = 0.1) -> str:
    terms = []
    for _ in range(rng.choice([1, 1, 2, 2, 3, 4, 6, 40 if hostile else 8])):
        kind = rng.random()
        if kind < 0.15:
            rank = rng.choice([1, 8, 1024] + [1025, 10**6] * (hostile > 0))
            order = rng.choice([2, 3, 4] + [16, 17, 2000] * (hostile > 0))
            terms.append(f"inter({order}, rank={rank})" if rng.random() < 0.5 else
                         f"inter({order})")
        elif kind < 0.3:
            terms.append(f"x**{rng.randint(1, 20 if hostile else 16)}")
        else:
            terms.append(grammar_term(rng, hostile=hostile))
    return " + ".join(terms)


def clean_formula(rng: random.Random) -> str:
    """A formula of the language only: most parse, so the accepting paths are fuzzed too."""
    return grammar_formula(rng, hostile=0.0)


def token_soup(rng: random.Random) -> str:
    pieces = ("x", "sin", "(", ")", "+", "*", "**", "-", "/", ",", "=", "rank", "inter", "2",
              ".", " ") + HOSTILE_FRAGMENTS
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))


def mutated_formula(rng: random.Random) -> str:
    text = list(grammar_formula(rng))
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(text) + 1)
        action = rng.random()
        if action < 0.4:
            text.insert(position, chr(rng.choice([rng.randint(32, 126), rng.randint(0, 0x2FFFF)])))
        elif action < 0.7 and text:
            del text[min(position, len(text) - 1)]
        elif text:
            text[min(position, len(text) - 1)] = rng.choice("x()+*-^/.,= 0123456789")
    return "".join(text)


def random_unicode(rng: random.Random) -> str:
    return "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 40))).encode(
        "utf-8", "surrogatepass").decode("utf-8", "replace")


FORMULA_SOURCES = (grammar_formula, clean_formula, token_soup, mutated_formula,
                   random_unicode)


def random_formula(rng: random.Random) -> str:
    """One fuzz input for the parser, from one of :data:`FORMULA_SOURCES`."""
    return rng.choice(FORMULA_SOURCES)(rng)


def read_formula(text: str) -> str:
    """Parse ``text`` as a user formula and use it as the network would.

    Returns ``"accepted"``; raises what parsing raises. An accepted formula
    must also compile and print back to text that parses to itself.
    """
    formula = NeuronFormula.parse(text)
    for function in formula.functions:
        compile_elementwise(function)
    if NeuronFormula.parse(" + ".join(formula.terms)) != formula:
        raise AssertionError(f"round trip changed {text!r}")
    return "accepted"


# -------------------------------------------------------------- model files
def base_models() -> list[tuple[str, bytes, np.ndarray]]:
    """Small fitted models as model files: (name, file bytes, rows to predict)."""
    from sklearn.datasets import make_classification, make_regression

    from skneuron import TaskNeuronClassifier, TaskNeuronRegressor

    X, y = make_regression(80, 3, random_state=0)
    Xc, yc = make_classification(80, 3, n_informative=2, n_redundant=0, random_state=0)
    models = [
        ("regressor", TaskNeuronRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0,
                                          formula="x + sin(x) + inter(2, rank=2)"), X, y),
        ("classifier", TaskNeuronClassifier(hidden_layer_sizes=(4, 3), max_iter=2,
                                            random_state=0), Xc,
         np.array(["no", "yes"], dtype=object)[yc]),
    ]
    with contextlib.suppress(ImportError):  # the command line's pipeline, where pandas is
        import pandas as pd
        from sklearn.pipeline import make_pipeline

        from skneuron.preprocessing import TabularEncoder

        frame = pd.DataFrame({"size": X[:, 0], "colour": np.where(X[:, 1] > 0, "red", "blue")})
        models.append(("pipeline", make_pipeline(TabularEncoder(), TaskNeuronRegressor(
            hidden_layer_sizes=(3,), max_iter=2, random_state=0)), frame, y))
    files = []
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, model, rows, target in models:
            path = os.path.join(folder, f"{name}.skn")
            save(model.fit(rows, target), path)
            files.append((name, Path(path).read_bytes(), rows[:5]))  # rows: array or frame
    return files


#: Values planted in manifests: wrong types, huge or negative sizes, hostile text and tags.
HOSTILE_VALUES = (
    None, True, -5, 0, 10**6, 10**30, 1.5, float("inf"), "", "x" * 5000, "meta", "cuda:7",
    "x*9**9**8", "sin(" * 20 + "x" + ")" * 20, "__import__('benchmarks.fuzz').payload()",
    "x.\uff53\uff55\uff42\uff53(x, '\\137')", [], [1] * 1000, {}, {"pickle": "gASV"},
    {"tuple": [8000, 8000]}, {"tuple": [10**9]}, {"device": "meta"}, {"device": "bogus"},
    {"device": "cuda:7"}, {"array": "999"}, {"array": 0}, {"network": "0"},
    {"items": ["a"] * 300, "dtype": "<U1000000"}, {"items": [[1, 2]], "dtype": "O"},
    {"items": ["a"], "dtype": "V8"}, {"formula": {"functions": ["x**150"]}},
    {"formula": {"pure_orders": [1, 99999]}}, {"formula": {"interaction_orders": [2000]}},
    {"formula": {"rank": 10**6, "interaction_orders": [2]}}, {"dict": {"__class__": 1}},
    {"discovery": {}}, {"tuple": [{"tuple": [{"tuple": []}]}]},
)


def _json_paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_paths(item, (*path, index))


def mutate_manifest(manifest: dict, rng: random.Random) -> dict:
    """Replace, delete or add one value somewhere in the manifest."""
    manifest = json.loads(json.dumps(manifest))
    path = rng.choice([p for p in _json_paths(manifest) if p])
    parent = manifest
    for key in path[:-1]:
        parent = parent[key]
    action = rng.random()
    if action < 0.7:
        parent[path[-1]] = rng.choice(HOSTILE_VALUES)
    elif action < 0.85 and isinstance(parent, dict):
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[rng.choice(["predict", "__dict__", "extra_", "n_features_in_"])] = \
            rng.choice(HOSTILE_VALUES)
    return manifest


def _members(data: bytes) -> list[list]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [[info.filename, archive.read(info.filename), info.compress_type]
                for info in archive.infolist()]


def _zip(members: list[list], *, encrypt: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # duplicate names
        for name, data, method in members:
            archive.writestr(name, data, compress_type=method)
    data = bytearray(buffer.getvalue())
    if encrypt is not None:  # zipfile cannot set the flag: set it in the central directory
        at = data.find(b"PK\x01\x02")
        while at != -1:
            if data[at + 46:at + 46 + len(encrypt)] == encrypt.encode():
                data[at + 8] |= 1
            at = data.find(b"PK\x01\x02", at + 1)
    return bytes(data)


def _rehash(members: list[list]) -> None:
    """Keep the manifest's checksum right, so the loader's later checks are reached."""
    found = dict((m[0], m) for m in members)
    if "manifest.json" in found and "weights.pt" in found:
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            manifest = json.loads(found["manifest.json"][1])
            if isinstance(manifest, dict):
                manifest["weights_sha256"] = hashlib.sha256(found["weights.pt"][1]).hexdigest()
                found["manifest.json"][1] = json.dumps(manifest).encode()


def _mutate_weights(weights: bytes, rng: random.Random) -> bytes:
    tensors = torch.load(io.BytesIO(weights), weights_only=True)
    if not (isinstance(tensors, dict) and isinstance(tensors.get("arrays"), dict)
            and isinstance(tensors.get("networks"), dict) and tensors["networks"]):
        return weights
    choice = rng.random()
    if choice < 0.3:
        tensors["x"] = _Payload()
    elif choice < 0.5:
        state = next(iter(tensors["networks"].values()))
        key = rng.choice(sorted(state))
        state[key] = torch.zeros(rng.choice([(0,), (3, 3), (10**5,)]),
                                 dtype=rng.choice([torch.float32, torch.int64, torch.complex64]))
    elif choice < 0.7:
        tensors = rng.choice([{}, [], {"arrays": [], "networks": {}}, torch.zeros(3)])
    else:
        key = rng.choice(sorted(tensors["arrays"]) or ["0"])
        tensors["arrays"][key] = torch.zeros(rng.choice([(0,), (7,), (2, 2, 2)]))
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    return buffer.getvalue()


def mutate_model_file(data: bytes, rng: random.Random) -> bytes:
    """One to three random mutations of a model file's bytes, members, manifest or weights."""
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(_FILE_MUTATIONS)(data, rng)
    return data


def _flip_bytes(data: bytes, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _cut(data: bytes, rng):
    return data[:rng.randrange(len(data) + 1)] if rng.random() < 0.5 else \
        data + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))


def _on_members(change):
    def mutation(data: bytes, rng):
        try:
            members = _members(data)
        except Exception:  # noqa: BLE001 - an earlier mutation broke the zip: flip bytes then
            return _flip_bytes(data, rng)
        encrypt = change(members, rng)
        _rehash(members)
        return _zip(members, encrypt=encrypt)
    return mutation


def _member_layout(members, rng):
    action = rng.random()
    if action < 0.2 and members:
        members.append(list(rng.choice(members)))
    elif action < 0.35 and members:
        members.pop(rng.randrange(len(members)))
    elif action < 0.5:
        members.append([rng.choice(["payload.pkl", "../evil", "manifest.json"]), b"\x80\x04N.",
                        zipfile.ZIP_STORED])
    elif action < 0.75 and members:
        member = rng.choice(members)
        member[2] = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                zipfile.ZIP_LZMA])
    elif action < 0.85 and members:
        member = rng.choice(members)
        member[1] = member[1] + bytes(rng.choice([10**6, 3 * 10**7]))
        member[2] = zipfile.ZIP_DEFLATED
    elif members:
        return rng.choice(members)[0]  # flagged encrypted
    return None


def _manifest_values(members, rng):
    for member in members:
        if member[0] == "manifest.json":
            with contextlib.suppress(ValueError, UnicodeDecodeError, IndexError, TypeError):
                manifest = json.loads(member[1])
                if isinstance(manifest, dict):
                    member[1] = json.dumps(mutate_manifest(manifest, rng)).encode()
    return None


def _weights_values(members, rng):
    for member in members:
        if member[0] == "weights.pt":
            with contextlib.suppress(Exception):
                member[1] = _mutate_weights(member[1], rng)
    return None


_FILE_MUTATIONS = (_flip_bytes, _cut, _on_members(_member_layout), _on_members(_manifest_values),
                   _on_members(_manifest_values), _on_members(_weights_values))


def read_model_file(path: str, rows: np.ndarray) -> str:
    """Load a (mutated) model file; if it loads, predict with it.

    Returns ``"accepted"`` or ``"accepted, predict raised <type>"``; raises
    what loading raises.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = skneuron.load(path)
        try:
            model.predict(rows)
        except Exception as exc:  # noqa: BLE001 - reported, not an error of the loader
            return f"accepted, predict raised {type(exc).__name__}"
    return "accepted"


# ------------------------------------------------------------------ running
class _Hang(Exception):
    pass


@dataclass
class Tally:
    """What a fuzz run saw for one target."""

    documented: tuple
    inputs: int = 0
    outcomes: Counter = field(default_factory=Counter)
    undocumented: list = field(default_factory=list)
    executions: list = field(default_factory=list)
    slowest: float = 0.0
    slowest_input: str = ""
    over_limit: int = 0
    peak_extra_mb: float = 0.0

    def run(self, function, label: str):
        """Run one input under the code watch, the watchdog and the clocks."""
        watch, runs = CodeWatch.get(), len(PAYLOAD_RUNS)
        events = len(watch.events)
        start = time.perf_counter()
        with peak_memory_growth() as memory:
            outcome = self._outcome(function, label, watch)
        seconds = time.perf_counter() - start
        self.inputs += 1
        self.outcomes[outcome] += 1
        if watch.events[events:] or PAYLOAD_RUNS[runs:]:
            self.executions.append((label, watch.events[events:][:3], PAYLOAD_RUNS[runs:][:3]))
        if seconds > self.slowest:
            self.slowest, self.slowest_input = seconds, label
        self.over_limit += seconds > HANG_SECONDS
        self.peak_extra_mb = max(self.peak_extra_mb, memory["mb"])

    def _outcome(self, function, label: str, watch: CodeWatch) -> str:
        try:
            with watch.watching(), _watchdog():
                return function()
        except self.documented:
            return "refused (documented error)"
        except Exception as exc:  # noqa: BLE001 - an undocumented type is what is counted
            self.undocumented.append((label, f"{type(exc).__name__}: {str(exc)[:120]}"))
            return "other exception"


@contextlib.contextmanager
def _watchdog():
    def stop(signum, frame):
        raise _Hang(f"still running after {WATCHDOG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, WATCHDOG_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def peak_memory_growth():
    """Measure how far the peak memory of the process rises inside the block.

    Yields a dict whose ``"mb"`` is set on leaving: on Linux the growth of the
    peak resident memory over the resident memory on entry (the peak is reset
    through ``/proc/self/clear_refs``), which sees torch's and numpy's native
    allocations; elsewhere tracemalloc's peak, which sees Python's and numpy's.
    """
    result = {"mb": 0.0}
    try:
        before = _status_mb("VmRSS")
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # the peak (VmHWM) restarts from the resident size
    except (OSError, KeyError):
        before = None
        tracemalloc.start()
    try:
        yield result
    finally:
        if before is None:
            result["mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        else:
            result["mb"] = _status_mb("VmHWM") - before


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def fuzz_formulas(count: int, seed: int, log=print) -> Tally:
    """Parse ``count`` random formula strings; :class:`Tally` of what happened."""
    rng, tally = random.Random(seed), Tally(documented=(FormulaSyntaxError,))
    read_formula("x + sin(x) + inter(2)")  # warm: lazy imports are not code execution
    for i in range(count):
        text = random_formula(rng)
        tally.run(lambda: read_formula(text), repr(text)[:120])
        if log and (i + 1) % 20_000 == 0:
            log(f"  {i + 1:,} formulas")
    return tally


def fuzz_model_files(count: int, seed: int, log=print) -> Tally:
    """Load ``count`` mutated model files; :class:`Tally` of what happened."""
    rng, tally = random.Random(seed), Tally(documented=(ModelFileError,))
    bases = base_models()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "fuzzed.skn")
        for _, data, rows in bases:  # warm
            Path(path).write_bytes(data)
            read_model_file(path, rows)
        for i in range(count):
            name, data, rows = rng.choice(bases)
            Path(path).write_bytes(mutate_model_file(data, rng))
            failures = len(tally.undocumented) + len(tally.executions)
            tally.run(lambda: read_model_file(path, rows), f"{name} mutation {i}")
            if len(tally.undocumented) + len(tally.executions) > failures:
                _keep(path, f"{name}-{i}.skn", log)
            if log and (i + 1) % 2_000 == 0:
                log(f"  {i + 1:,} model files")
    return tally


def _keep(path: str, name: str, log) -> None:
    """Copy a file that failed a check where it outlives the run, for a look at it."""
    folder = Path(tempfile.gettempdir()) / "skneuron-fuzz-failures"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(Path(path).read_bytes())
    if log:
        log(f"  kept {folder / name}")


def report(formulas: Tally, files: Tally, seconds: float, seed: int) -> str:
    rows = [("formula strings (`NeuronFormula.parse`)", formulas),
            ("mutated model files (`skneuron.load`)", files)]
    lines = [
        "# Fuzzing the formula parser and the model-file loader",
        "",
        f"Produced by `python -m benchmarks.fuzz --formulas {formulas.inputs} --files "
        f"{files.inputs} --seed {seed}` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} "
        f"UTC in {seconds / 60:.1f} min; torch {torch.__version__}, Python "
        f"{sys.version.split()[0]}.",
        "",
        "| input | count | accepted | refused (documented error) | other exceptions | code "
        f"executed | slowest | over {HANG_SECONDS:g} s | peak extra memory |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, tally in rows:
        accepted = sum(v for k, v in tally.outcomes.items() if k.startswith("accepted"))
        memory = f"{tally.peak_extra_mb:.1f} MB"
        lines.append(
            f"| {name} | {tally.inputs:,} | {accepted:,} | "
            f"{tally.outcomes['refused (documented error)']:,} | {len(tally.undocumented)} | "
            f"{len(tally.executions)} | {tally.slowest:.3f} s | {tally.over_limit} | {memory} |")
    lines += ["", "Documented errors: `FormulaSyntaxError` (a `ValueError`) for formulas, "
              "`ModelFileError` (a `ValueError`) for model files. Code execution is an audit "
              "event of `exec`, `compile`, `os.system`, `subprocess.Popen`, "
              "`pickle.find_class` and the like during an input, or a run of the planted "
              "payload. Memory is the largest growth of the peak resident memory while one "
              "input is read."]
    lines += _details(formulas, files)
    return "\n".join(lines) + "\n"


def _details(formulas: Tally, files: Tally) -> list[str]:
    lines = ["", f"Slowest formula: `{formulas.slowest_input}`; slowest file: "
             f"{files.slowest_input}."]
    loaded = {k: v for k, v in files.outcomes.items() if k.startswith("accepted")}
    if loaded:
        lines.append("Mutated files that loaded: " + ", ".join(
            f"{k} {v:,}" for k, v in sorted(loaded.items())) + ".")
    for name, tally in (("formula", formulas), ("model file", files)):
        for label, problem in tally.undocumented[:10]:
            lines.append(f"- undocumented error, {name} {label}: {problem}")
        for label, events, runs in tally.executions[:10]:
            lines.append(f"- code executed, {name} {label}: {events} {runs}")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formulas", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    print(f"fuzzing {args.formulas:,} formula strings")
    formulas = fuzz_formulas(args.formulas, args.seed)
    print(f"fuzzing {args.files:,} model files")
    files = fuzz_model_files(args.files, args.seed)
    text = report(formulas, files, time.perf_counter() - start, args.seed)
    print(text)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
