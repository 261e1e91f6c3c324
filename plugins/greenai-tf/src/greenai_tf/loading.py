"""Loading each TensorFlow model kind onto a device: audit first, then Keras or ``tf.saved_model``.

Security: nothing from the file is deserialised before its config (Keras) or graph (SavedModel)
has passed audit.py; Keras then loads with ``safe_mode=True`` unless ``trust=True``. Keras picks
its loader by the file name's suffix, so a file whose name does not end in ``.keras`` / ``.h5``
is given to it through a symlink with that name, in a private temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from greenai_core.sdk import (
    Device,
    InputSpec,
    ModelFormatError,
    TensorSpec,
    UnsafeModelError,
    check_member,
    guess_layout,
    one_line,
    open_regular,
    open_zip,
    read_member,
)
from greenai_tf.audit import MAX_CONFIG_BYTES, audit_keras_config, audit_saved_model, parse_config, parse_saved_model
from greenai_tf.kinds import H5, KERAS, SAVEDMODEL, detect_kind
from greenai_tf.model import TFModel
from greenai_tf.tfimport import import_tf, quiet, tf_device

#: Images are resized to this (H, W) when the model's height and width are dynamic and no option says.
DEFAULT_IMAGE_SIZE = (224, 224)
#: Largest member of a .keras zip Keras may extract (the compression-ratio check is what stops bombs).
MAX_KERAS_MEMBER = 64 * 1024**3
#: Largest class-name list read from a model (labels.txt, metadata, attribute).
MAX_LABELS_BYTES = 16 * 1024 * 1024
_TRUST_HINT = "Pass trust=True (CLI: --trust) only for a file you trust"


def _labels(value: Any, path: Path, where: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, (bytes, str)):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        value = parse_config(text, path, where) if text.lstrip().startswith("[") else text.splitlines()
    names = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in list(value)]
    if not names or not all(isinstance(n, str) for n in names):
        raise ModelFormatError(f"{path}: its {where} is not a list of class names")
    return [n.strip() for n in names]


def _keras_zip_facts(path: Path) -> tuple[Any, list[str] | None]:
    """The config and class names of a .keras zip; every member is checked (size, ratio) before Keras extracts it."""
    with open_zip(path) as zf:
        for info in zf.infolist():
            if info.filename.startswith("/") or ".." in Path(info.filename).parts:
                raise ModelFormatError(f"{path}: zip member {info.filename!r} points outside the archive")
            check_member(zf, info.filename, MAX_KERAS_MEMBER)
        config = parse_config(read_member(zf, "config.json", MAX_CONFIG_BYTES), path, "config.json")
        labels = None
        if "metadata.json" in zf.namelist():
            meta = parse_config(read_member(zf, "metadata.json", MAX_LABELS_BYTES), path, "metadata.json")
            if isinstance(meta, dict):
                labels = _labels(meta.get("class_names"), path, "metadata.json class_names")
    return config, labels


def _h5_attribute(f: Any, name: str, path: Path, limit: int) -> Any:
    if name not in f.attrs:
        return None
    size = f.attrs.get_id(name).get_storage_size()
    if size > limit:
        raise ModelFormatError(f"{path}: HDF5 attribute {name} holds {size} bytes (limit {limit}); refused")
    return f.attrs[name]


def _h5_facts(path: Path) -> tuple[Any, list[str] | None]:
    """Keras's model_config (read bounded, through h5py, which deserialises nothing) and class names."""
    import h5py

    try:
        with open_regular(path) as fh, h5py.File(fh, "r") as f:
            raw = _h5_attribute(f, "model_config", path, MAX_CONFIG_BYTES)
            labels = _labels(_h5_attribute(f, "class_names", path, MAX_LABELS_BYTES), path, "class_names attribute")
    except OSError as exc:
        raise ModelFormatError(f"{path}: corrupt or truncated HDF5 file ({one_line(exc)})") from None
    if raw is None:
        raise ModelFormatError(f"{path}: an HDF5 file without a Keras model (no model_config attribute)")
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return parse_config(str(raw), path, "model_config attribute"), labels


@contextlib.contextmanager
def _named(path: Path, suffixes: tuple[str, ...]) -> Iterator[str]:
    """``path`` as a name Keras accepts: itself, or a symlink ending in ``suffixes[0]`` in a private folder."""
    if path.name.endswith(suffixes):
        yield str(path)
        return
    with tempfile.TemporaryDirectory(prefix="greenai-tf-") as tmp:
        link = Path(tmp) / f"model{suffixes[0]}"
        os.symlink(os.path.realpath(path), link)
        yield str(link)


def _load_keras(keras: Any, path: Path, kind: str, trust: bool) -> Any:
    suffixes = (".keras",) if kind == KERAS else (".h5", ".hdf5")
    try:
        with _named(path, suffixes) as name, quiet():
            return keras.saving.load_model(name, compile=False, safe_mode=not trust)
    except Exception as exc:
        text = one_line(exc)
        if not trust and ("safe_mode" in text or "unsafe" in text.lower()):
            raise UnsafeModelError(f"{path}: Keras refused it in safe mode ({text}). {_TRUST_HINT}") from None
        raise ModelFormatError(f"{path}: Keras cannot load this {kind} file ({text})") from exc


def _spec(shape: Any, dtype: Any, name: str, path: Path, what: str) -> InputSpec:
    dims = tuple(None if d is None else int(d) for d in shape)
    if len(dims) != 4:
        raise ModelFormatError(f"{path}: the {what} input {name} has shape {list(dims)}, not an image batch")
    dtype_name = getattr(dtype, "name", None) or str(dtype)
    return InputSpec(name, dims, dtype_name, guess_layout(dims))


def _keras_model(tf: Any, keras: Any, path: Path, kind: str, trust: bool, dev: str,
                 labels: list[str] | None, device: Device) -> TFModel:
    with tf.device(dev):
        model = _load_keras(keras, path, kind, trust)
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ModelFormatError(f"{path}: the Keras model does not say its input (a subclassed model saved "
                               "before it was built?)")
    if len(inputs) != 1:
        raise ModelFormatError(f"{path}: the Keras model takes {len(inputs)} inputs; greenai runs image models "
                               "with one input")
    first = inputs[0]
    spec = _spec(first.shape, first.dtype, getattr(first, "name", None) or "input", path, "Keras model's")
    outputs = getattr(model, "outputs", None) or []
    out_spec = (TensorSpec("output", tuple(None if d is None else int(d) for d in outputs[0].shape),
                           str(outputs[0].dtype)) if outputs else None)
    trainable = sum(_size(w.shape) for w in model.trainable_weights)
    return TFModel(
        model, kind=kind, tf_device=dev, path=path, format="tf", device=device, input_spec=spec,
        output_spec=out_spec, num_parameters=int(model.count_params()), trainable_parameters=trainable,
        details={"kind": kind, "keras_class": type(model).__name__,
                 "parameters_counted": "Keras count_params() (weights; random-generator state excluded)"},
        image_size=DEFAULT_IMAGE_SIZE, labels=labels,
    )


def _size(shape: Any) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _signature(loaded: Any, path: Path) -> tuple[str, Any]:
    signatures = dict(getattr(loaded, "signatures", {}) or {})
    if "serving_default" in signatures:
        return "serving_default", signatures["serving_default"]
    if len(signatures) == 1:
        return next(iter(signatures.items()))
    listed = ", ".join(sorted(signatures)) or "none"
    raise ModelFormatError(f"{path}: the SavedModel has no serving signature 'serving_default' (signatures: "
                           f"{listed}); export it with model.export() or tf.saved_model.save(..., signatures=...)")


def _saved_model_labels(path: Path) -> list[str] | None:
    for name in ("labels.txt", "class_names.txt"):
        candidate = path / "assets" / name
        if candidate.is_file():
            with open_regular(candidate) as fh:
                raw = fh.read(MAX_LABELS_BYTES + 1)
            if len(raw) > MAX_LABELS_BYTES:
                raise ModelFormatError(f"{candidate}: more than {MAX_LABELS_BYTES} bytes of class names")
            return _labels(raw.decode("utf-8", "replace").strip("\n"), path, f"assets/{name}")
    return None


def _saved_model(tf: Any, path: Path, trust: bool, dev: str, device: Device) -> TFModel:
    message = parse_saved_model(path)
    if not trust:
        audit_saved_model(path, message)
    try:
        with tf.device(dev), quiet():
            loaded = tf.saved_model.load(str(path))
    except Exception as exc:
        raise ModelFormatError(f"{path}: TensorFlow cannot load this SavedModel ({one_line(exc)})") from exc
    sig_name, signature = _signature(loaded, path)
    _args, kwargs = signature.structured_input_signature
    images = [(k, v) for k, v in sorted(kwargs.items()) if len(v.shape) == 4]
    if len(kwargs) != 1 or not images:
        raise ModelFormatError(f"{path}: signature {sig_name} takes inputs {sorted(kwargs)}; greenai runs image "
                               "models with one rank-4 input")
    input_name, input_tensor = images[0]
    spec = _spec(input_tensor.shape.as_list(), input_tensor.dtype, input_name, path, f"signature {sig_name}'s")
    outputs = signature.structured_outputs
    if not isinstance(outputs, dict) or not outputs:
        raise ModelFormatError(f"{path}: signature {sig_name} returns no named outputs")
    output_key = sorted(outputs)[0]
    out = outputs[output_key]
    # The variables the serving function reads: the parameters that make its outputs (a Keras
    # export's random-generator state, which count_params() leaves out too, is not among them).
    variables = {id(v): v for v in signature.variables}
    trainable = {id(v): v for v in signature.trainable_variables}
    return TFModel(
        loaded, kind=SAVEDMODEL, tf_device=dev, signature=signature, signature_name=sig_name,
        input_name=input_name, output_key=output_key, path=path, format="tf", device=device, input_spec=spec,
        output_spec=TensorSpec(output_key, tuple(out.shape.as_list()), out.dtype.name),
        num_parameters=sum(int(v.shape.num_elements()) for v in variables.values()),
        trainable_parameters=sum(int(v.shape.num_elements()) for v in trainable.values()),
        details={"kind": SAVEDMODEL, "signature": sig_name, "output": output_key,
                 "parameters_counted": "the variables its serving signature reads"},
        image_size=DEFAULT_IMAGE_SIZE, labels=_saved_model_labels(path),
    )


def load_tf(path: Path, *, device: Device, trust: bool = False) -> TFModel:
    kind = detect_kind(path)
    if kind is None:
        raise ModelFormatError(f"{path}: not a TensorFlow model file or SavedModel folder")
    tf, keras = import_tf(path)
    dev = tf_device(tf, device, path)
    if kind == SAVEDMODEL:
        return _saved_model(tf, path, trust, dev, device)
    config, labels = _keras_zip_facts(path) if kind == KERAS else _h5_facts(path)
    if not trust:
        audit_keras_config(config, path, "config.json" if kind == KERAS else "model_config attribute")
    assert kind in (KERAS, H5)
    return _keras_model(tf, keras, path, kind, trust, dev, labels, device)
