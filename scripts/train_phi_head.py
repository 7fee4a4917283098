"""Retrain only the PHI classifier's head on cached token features (minutes on a shared CPU, not hours).

    python scripts/train_phi_head.py [--init deid/pixels/models/phi_minilm] [--out DIR] [--phi-weight 1.0]

The encoder of the ``--init`` delta (all-MiniLM-L6-v2 with its fine-tuned last layer) is frozen: its
last hidden states are computed ONCE for every training line, then the 2-label linear head (O / PHI,
the model's only other trained part) is fitted on them full-batch (Adam, a few hundred epochs, seconds).
The saved delta keeps the encoder layer of ``--init`` and replaces the head; :mod:`deid.pixels.phi_model`
loads it unchanged.

Data, split by SOURCE as in ``scripts/train_phi_classifier.py``:

- train: ``phi_training_lines.lines("train", ...)`` (training faker locales, SNOMED CT / MDC / UMLS
  meanings) plus ``phi_training_lines.attribute_lines`` (DICOM attribute names, PS3.6: labels as overlays
  show them, with values, units and counters), weighted ``--extra-weight``;
- choice of the weights: a development draw of the held-out sources (seed ``--seed`` + 2);
- reported: held-out by source (seed ``--seed`` + 1; other locales, RadLex / FMA / NCIt) and the
  evaluation sources (``make_eval_pixels.text_pool(150, 202)``), never used for training or choice.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from deid.pixels.phi_model import SHIPPED_DIR, TokenPhiModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_eval_pixels import text_pool  # noqa: E402
from phi_training_lines import attribute_lines, lines, word_lines  # noqa: E402

Lines = list[tuple[list[str], list[int]]]


def token_features(model: TokenPhiModel, data: Lines, batch: int = 128) -> tuple[torch.Tensor, ...]:
    """(features, word label, line index) of every word piece: the frozen encoder's last hidden states."""
    feats, labels, rows = [], [], []
    with torch.inference_mode():
        for start in range(0, len(data), batch):
            chunk = data[start:start + batch]
            enc = model._tok([w for w, _ in chunk], is_split_into_words=True, truncation=True, max_length=32,
                             padding=True, return_tensors="pt")
            hidden = model._model.bert(**enc).last_hidden_state
            for r, (_, labs) in enumerate(chunk):
                for pos, wid in enumerate(enc.word_ids(r)):
                    if wid is not None:
                        feats.append(hidden[r, pos])
                        labels.append(labs[wid])
                        rows.append(start + r)
    return torch.stack(feats), torch.tensor(labels), torch.tensor(rows)


def fit_head(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, init: tuple[torch.Tensor, torch.Tensor],
             epochs: int, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted cross-entropy, full batch, from the ``init`` head; a small L2 keeps it near its scale."""
    w = init[0].clone().requires_grad_(True)
    b = init[1].clone().requires_grad_(True)
    opt = torch.optim.Adam([w, b], lr=lr)
    for _ in range(epochs):
        loss = (torch.nn.functional.cross_entropy(x @ w.T + b, y, reduction="none") * weight).sum() / weight.sum()
        loss = loss + 1e-3 * (w ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach(), b.detach()


def line_figures(head: tuple[torch.Tensor, torch.Tensor], feats: tuple[torch.Tensor, ...],
                 threshold: float) -> dict[str, float]:
    """Line recall (a PHI line scores >= threshold) and false-positive rate (a clinical line does)."""
    x, y, rows = feats
    probs = torch.softmax(x @ head[0].T + head[1], -1)[:, 1]
    n = int(rows.max()) + 1
    score = torch.zeros(n).scatter_reduce(0, rows, probs, reduce="amax")
    phi = torch.zeros(n, dtype=torch.long).scatter_reduce(0, rows, y, reduce="amax") == 1
    return {"line_recall": float((score[phi] >= threshold).float().mean()),
            "line_fpr": float((score[~phi] >= threshold).float().mean()),
            "phi_lines": int(phi.sum()), "clinical_lines": int((~phi).sum())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--init", type=Path, default=SHIPPED_DIR)
    ap.add_argument("--out", type=Path, default=SHIPPED_DIR)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--train-lines", type=int, default=9600)
    ap.add_argument("--attribute-lines", type=int, default=3000)
    ap.add_argument("--word-lines", type=int, default=0, help="plain-word negatives (word_lines)")
    ap.add_argument("--phi-weight", type=float, default=1.0)
    ap.add_argument("--extra-weight", type=float, default=3.0)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    t0 = time.time()
    model = TokenPhiModel(args.init, threads=args.threads, backend="torch")  # trains the torch modules
    init_meta = json.loads((args.init / "meta.json").read_text())
    train = lines("train", args.train_lines, args.seed)
    extra = attribute_lines(args.attribute_lines, args.seed + 100) + word_lines(args.word_lines, args.seed + 200)
    x, y, rows = token_features(model, train + extra)
    weight = torch.where(rows >= len(train), args.extra_weight, 1.0) * torch.where(y == 1, args.phi_weight, 1.0)
    sets = {"development (held-out sources)": token_features(model, lines("heldout", 2000, args.seed + 2)),
            "held-out by source": token_features(model, lines("heldout", 2000, args.seed + 1)),
            "evaluation sources": token_features(model, [(t.split(), [int(p)] * len(t.split()))
                                                         for t, p in text_pool(150, 202)])}
    print(f"features of {len(train)} + {len(extra)} lines in {time.time() - t0:.0f}s", flush=True)
    clf = model._model.classifier
    shipped = (clf.weight.detach().clone(), clf.bias.detach().clone())
    head = fit_head(x, y, weight, shipped, args.epochs, args.lr)
    for name, feats in sets.items():
        for thr in (0.2, 0.5, 0.8):
            for tag, h in (("init", shipped), ("new ", head)):
                m = line_figures(h, feats, thr)
                print(f"{name:32s} {tag} threshold {thr}: line recall {m['line_recall']:.4f} "
                      f"false-positive rate {m['line_fpr']:.4f} ({m['phi_lines']} PHI / {m['clinical_lines']} clinical)")
    args.out.mkdir(parents=True, exist_ok=True)
    delta = load_file(str(args.init / "delta.safetensors"))
    delta["classifier.weight"] = head[0].to(torch.float16).contiguous()
    delta["classifier.bias"] = head[1].to(torch.float16).contiguous()
    save_file(delta, str(args.out / "delta.safetensors"))
    meta = {**init_meta, "version": f"{init_meta['version']}-head-a{args.attribute_lines}-w{args.word_lines}-p{args.phi_weight:g}",
            "data": {**init_meta["data"], "head": {
                "trained": ["classifier."], "train_lines": len(train), "seed": args.seed,
                "attribute_lines": args.attribute_lines, "attribute_seed": args.seed + 100,
                "word_lines": args.word_lines, "word_seed": args.seed + 200, "phi_weight": args.phi_weight,
                "extra_weight": args.extra_weight, "epochs": args.epochs}},
            "held_out_by_source": line_figures(head, sets["held-out by source"], 0.5),
            "evaluation_sources": line_figures(head, sets["evaluation sources"], 0.5)}
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"saved to {args.out} ({time.time() - t0:.0f}s)")


if __name__ == "__main__":
    main()
