"""Hostile PyTorch files: every member torch would unpickle or evaluate, forged with a payload that writes
a marker file. Without trust each is refused before torch opens the file and the marker never appears;
where torch itself would run the payload, trust=True shows the payload is real."""

from __future__ import annotations

import io
import json
import pickle
import pickletools
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from greenai_torch.kinds import PICKLE, STATE_DICT, detect_kind
from greenai_torch.pickles import WEIGHTS_ONLY_GLOBALS, UnverifiablePickle, pickle_globals
from greenai_torch.program_checks import UnsafeProgram, check_sym_expr, check_target
from torch_models import Saved

from greenai_core import GreenAIError, UnsafeModelError, load_model

Member = bytes | Callable[[bytes], bytes]


class Evil:
    """Unpickling this writes ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def saved_blob(obj: object) -> bytes:
    """What torch.save writes for ``obj`` (a zip whose data.pkl is the pickle)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def forge(src: Path, dst: Path, replace: dict[str, Member] | None = None, add: dict[str, bytes] | None = None) -> Path:
    """Copy a torch archive, replacing or adding records (names relative to its top folder)."""
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        prefix = zin.namelist()[0].split("/")[0] + "/"
        for info in zin.infolist():
            record = info.filename[len(prefix):]
            new = replace.pop(record, None)
            data = zin.read(info)
            zout.writestr(info.filename, new(data) if callable(new) else data if new is None else new)
        for record, data in add.items():
            zout.writestr(prefix + record, data)
    assert not replace, f"records not in the archive: {list(replace)}"
    return dst


def refused(path: Path, marker: Path, match: str | None = None) -> None:
    with pytest.raises(UnsafeModelError, match=match) as info:
        load_model(path)
    assert "trust=True" in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned.txt"


# -- the scanner itself -----------------------------------------------------------------------
def memo_trick(marker: Path) -> bytes:
    """STACK_GLOBAL os.system whose names come from the memo, after two harmless strings: a scanner that
    took "the last two strings" would read collections.OrderedDict."""
    command = f"touch {marker}".encode()
    ops = [b"\x80\x04",
           b"\x8c\x02os\x94", b"\x8c\x06system\x94", b"00",  # push, memoize 0 and 1, pop both
           b"\x8c\x0bcollections\x94", b"\x8c\x0bOrderedDict\x94", b"00",
           b"h\x00h\x01\x93",  # BINGET 0, BINGET 1, STACK_GLOBAL -> os.system
           b"\x8c" + bytes([len(command)]) + command,
           b"\x85R."]  # TUPLE1, REDUCE, STOP
    return b"".join(ops)


def test_stack_global_names_are_resolved_through_the_memo(marker: Path) -> None:
    data = memo_trick(marker)
    pickletools.dis(data, out=io.StringIO())  # a well-formed pickle
    assert pickle_globals(data) == ["os system"]
    assert pickle_globals(pickle.dumps(Evil(marker), protocol=2)) == ["__builtin__ exec"]
    assert pickle_globals(pickle.dumps(Evil(marker), protocol=4)) == ["builtins exec"]
    with pytest.raises(UnverifiablePickle, match="extension registry"):
        pickle_globals(b"\x80\x02\x82\x01)R.")  # EXT1 1: a global by registry code
    with pytest.raises(UnverifiablePickle, match="not plain strings"):
        pickle_globals(b"\x80\x04K\x01K\x02\x93.")  # STACK_GLOBAL on two ints
    with pytest.raises(UnverifiablePickle, match="not a readable pickle"):
        pickle_globals(b"\x80\x02 junk")


def test_memo_trick_in_a_state_dict_is_a_full_pickle(marker: Path, tmp_path: Path) -> None:
    path = tmp_path / "weights.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("weights/data.pkl", memo_trick(marker))
        zf.writestr("weights/version", "3\n")
    assert detect_kind(path) == PICKLE
    refused(path, marker, "runs code from the file")
    with pytest.raises(GreenAIError):
        load_model(path, trust=True)  # os.system returns 0, not a module; but it ran
    assert marker.exists()


def test_weights_only_allowlist_is_within_torchs_own() -> None:
    from torch._weights_only_unpickler import _get_allowed_globals

    torchs = {k.rpartition(".")[0] + " " + k.rpartition(".")[2] for k in _get_allowed_globals()}
    ours = {g.replace("__builtin__ ", "builtins ") for g in WEIGHTS_ONLY_GLOBALS}
    assert ours <= torchs, sorted(ours - torchs)
    assert "torch._utils _import_dotted_name" not in WEIGHTS_ONLY_GLOBALS  # a whole-module allowance would let it in


def test_state_dict_member_with_a_payload_is_refused(saved: Saved, marker: Path, tmp_path: Path) -> None:
    path = forge(saved.paths["state_dict"], tmp_path / "w.pth",
                 replace={"data.pkl": pickle.dumps(Evil(marker), protocol=2)})
    assert detect_kind(path) == PICKLE
    refused(path, marker)
    assert detect_kind(saved.paths["state_dict"]) == STATE_DICT


# -- TorchScript ------------------------------------------------------------------------------
@pytest.mark.parametrize("record", ["data.pkl", "constants.pkl", "code/__torch__/tiny_nets.py.debug_pkl"])
def test_torchscript_pickles_with_a_payload_are_refused(saved: Saved, marker: Path, tmp_path: Path,
                                                        record: str) -> None:
    path = forge(saved.paths["torchscript"], tmp_path / "script.pt",
                 replace={record: pickle.dumps(Evil(marker), protocol=2)})
    refused(path, marker, f"{record}.*references builtins.exec|{record}.*__builtin__.exec")
    try:  # torch's C++ unpickler imports no Python: it fails (or, for debug info, reads it lazily), never runs it
        load_model(path, trust=True).close()
    except GreenAIError:
        pass
    assert not marker.exists()


def test_torchscript_extra_files_are_never_read(saved: Saved, marker: Path, tmp_path: Path) -> None:
    path = forge(saved.paths["torchscript"], tmp_path / "script.pt",
                 add={"extra/notes.pkl": pickle.dumps(Evil(marker), protocol=2)})
    with pytest.raises(UnsafeModelError):  # a .pkl record we cannot vouch for is refused, wherever it is
        load_model(path)
    plain = forge(saved.paths["torchscript"], tmp_path / "script2.pt",
                  add={"extra/notes.txt": pickle.dumps(Evil(marker), protocol=2)})
    with load_model(plain) as model:  # an extra file torch is never asked for stays unread
        assert model.details["kind"] == "torchscript"
    assert not marker.exists()


# -- torch.export -----------------------------------------------------------------------------
def _config(use_pickle_for: str) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        config = json.loads(data)
        config["config"][use_pickle_for]["use_pickle"] = True
        return json.dumps(config).encode()
    return edit


def _constants_config(path_name: str) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        config = json.loads(data)
        config["config"]["evil"] = {"path_name": path_name, "is_param": False, "use_pickle": True,
                                    "tensor_meta": None}
        return json.dumps(config).encode()
    return edit


def _program(edit: Callable[[dict], None]) -> Callable[[bytes], bytes]:  # type: ignore[type-arg]
    def apply(data: bytes) -> bytes:
        program = json.loads(data)
        edit(program)
        return json.dumps(program).encode()
    return apply


SYMBOL = "Symbol('s77', positive=True, integer=True)"


def export_forgeries(marker: Path) -> dict[str, tuple[dict[str, Member], dict[str, bytes], bool]]:
    """name -> (replaced records, added records, whether torch itself runs the payload with trust)."""
    evil_blob = saved_blob(Evil(marker))
    evil_pickle = pickle.dumps(Evil(marker))
    run = f"__import__('os').system('touch {marker}') or {SYMBOL}"

    def target(program: dict) -> None:  # type: ignore[type-arg]
        program["graph_module"]["graph"]["nodes"][0]["target"] = "torch.os.system"

    def guards(program: dict) -> None:  # type: ignore[type-arg]
        program["guards_code"] = [f"__import__('os').system('touch {marker}') is None"]

    return {
        "sample inputs": ({"data/sample_inputs/model.pt": evil_blob}, {}, True),
        "pickled weight": ({"data/weights/weight_0": evil_blob,
                            "data/weights/model_weights_config.json": _config("conv.weight")}, {}, True),
        "pickled constant": ({"data/constants/model_constants_config.json": _constants_config("tensor_0")},
                             {"data/constants/tensor_0": evil_blob}, True),
        "opaque object": ({"data/constants/model_constants_config.json": _constants_config("opaque_obj_0")},
                          {"data/constants/opaque_obj_0": evil_pickle}, True),
        "torchbind object": ({"data/constants/model_constants_config.json": _constants_config("custom_obj_0")},
                             {"data/constants/custom_obj_0": evil_blob}, False),
        "legacy weights file": ({}, {"data/weights/model.pt": evil_blob}, True),
        "bare pickle record": ({}, {"data/extra_state.pkl": evil_pickle}, False),
        "native code": ({}, {"data/aotinductor/model/model.so": b"\x7fELF"}, False),
        "sympy expression": ({"models/model.json": lambda b: b.replace(SYMBOL.encode(), run.encode(), 1)}, {}, True),
        "operator target": ({"models/model.json": _program(target)}, {}, False),
        "guard code": ({"models/model.json": _program(guards)}, {}, False),
    }


FORGERIES = list(export_forgeries(Path("x")))


@pytest.mark.parametrize("name", FORGERIES)
def test_export_members_with_a_payload_are_refused(saved: Saved, marker: Path, tmp_path: Path, name: str) -> None:
    replace, add, torch_runs_it = export_forgeries(marker)[name]
    path = forge(saved.paths["export"], tmp_path / "program.pt2", dict(replace), dict(add))
    refused(path, marker)
    if torch_runs_it:  # the forgery is real: torch's own reader runs it once trusted
        try:
            load_model(path, trust=True)
        except GreenAIError:
            pass
        assert marker.exists(), f"the {name} payload did not run even with trust"


def test_export_in_the_pre_2_7_layout_and_legacy_blobs_need_trust(saved: Saved, marker: Path, tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.pt2"
    with zipfile.ZipFile(legacy, "w") as zf:
        zf.writestr("serialized_exported_program.json", "{}")
        zf.writestr("serialized_example_inputs.pt", saved_blob(Evil(marker)))
        zf.writestr("version", "8.0")
    refused(legacy, marker, "pre-2.7 layout")
    old_format = io.BytesIO()
    torch.save(Evil(marker), old_format, _use_new_zipfile_serialization=False)
    path = forge(saved.paths["export"], tmp_path / "p.pt2", {"data/sample_inputs/model.pt": old_format.getvalue()})
    refused(path, marker, "legacy torch.save format")


def test_program_checks_accept_what_torch_writes_and_nothing_more() -> None:
    for ok in ("torch.ops.aten.conv2d.default", "torch.ops.aten._native_batch_norm_legit_no_training.default",
               "torch.ops.higher_order.cond", "_operator.getitem", "torch.sym_max", "math.trunc"):
        check_target(ok)
    for bad in ("torch.os.system", "torch.ops.load_library", "torch.ops.import_module.x", "builtins.exec",
                "torch.ops.aten.__class__", "_operator.attrgetter", "os.system"):
        with pytest.raises(UnsafeProgram):
            check_target(bad)
    for ok in (SYMBOL, "s0 + 2*s1", "FloorDiv(s0, 2)", "Max(1, s77)", "Eq(Mod(s0, 4), 0)",
               "Float('1.5', precision=53)"):
        check_sym_expr(ok)
    for bad in ("__import__('os').system('x')", "s0.__class__", "exec('x')", "Max('__import__(1)')", "S('x')",
                "[c for c in ()]", "lambda: 0", "open", "Symbol('a b; c')", "Symbol('x', integer=f())"):
        with pytest.raises(UnsafeProgram):
            check_sym_expr(bad)


def test_clean_files_of_every_kind_still_load_without_trust(saved: Saved) -> None:
    for kind in ("torchscript", "export"):
        with load_model(saved.paths[kind]) as model:
            assert model.details["kind"] == kind
