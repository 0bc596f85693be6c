"""The one LightningModule: any registered model + loss + optimiser/schedule from a recipe."""

from __future__ import annotations

import lightning as L
import torch
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from fer_bench.core.metrics import make_metrics
from fer_bench.models import CropAveraging, create_model
from fer_bench.recipes import Recipe


class DivergedError(RuntimeError):
    """The training loss became NaN or infinite: the cell is recorded as failed."""


class FERClassifier(L.LightningModule):
    """A registered model trained by a Recipe. Checkpoints keep the recipe as plain data (Recipe.to_dict),
    so they load without unpickling code; a dict given here (from a checkpoint) becomes a Recipe again."""

    def __init__(self, model: str, recipe: Recipe | dict, num_classes: int = 7,
                 class_weights: list[float] | None = None, channels_last: bool = False) -> None:
        super().__init__()
        recipe = Recipe.from_dict(recipe) if isinstance(recipe, dict) else recipe
        self.save_hyperparameters({"model": model, "recipe": recipe.to_dict(), "num_classes": num_classes,
                                   "class_weights": class_weights, "channels_last": channels_last})
        self.recipe = recipe
        kw = {"pretrained": recipe.pretrained} if recipe.pretrained else {}
        self.model = create_model(model, num_classes=num_classes, **kw)
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        if not recipe.model_crop and isinstance(self.model, CropAveraging):
            # Identical inputs (the tuned arena): the data path's shift is every model's translation, so a
            # crop model trains on its centre crop like it evaluates, not on a random crop of its own.
            self.model.train_random_crop = False
        w = torch.tensor(class_weights, dtype=torch.float32) if class_weights else None
        self.loss_fn = nn.CrossEntropyLoss(weight=w, label_smoothing=recipe.label_smoothing)
        self.train_acc = MulticlassAccuracy(num_classes, average="micro", validate_args=False)  # no host sync
        self.val_metrics = make_metrics(num_classes)
        self.test_metrics = make_metrics(num_classes)
        # Weighted by batch size; a NaN loss stays NaN (a diverged model must look diverged)
        self.eval_loss = nn.ModuleDict({s: MeanMetric(nan_strategy="disable") for s in ("val", "test")})
        self.test_probs: list[torch.Tensor] = []
        self.test_probs_flip: list[torch.Tensor] = []
        self._loss_sum = torch.zeros(())
        self._seen = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = self.loss_fn(logits.float(), y)
        # Epoch sums on the device instead of self.log every step: Lightning's per-step logging
        # walks its result collection each call, a measured cost for the smallest models
        # (benchmarks/perf/overhead.py); no host sync either way.
        self._loss_sum += loss.detach() * len(y)
        self._seen += len(y)
        # Vote targets (N, C): training accuracy against each image's top-voted class.
        self.train_acc.update(logits.detach(), y.argmax(1) if y.is_floating_point() else y)
        return loss

    def on_train_epoch_start(self) -> None:
        self._loss_sum = torch.zeros((), device=self.device)
        self._seen = 0
        self.train_acc.reset()

    def epoch_train_metrics(self) -> dict[str, torch.Tensor]:
        """Mean training loss and accuracy of the epoch so far (this process's batches)."""
        if not self._seen:
            return {}
        return {"train/loss": self._loss_sum / self._seen, "train/acc": self.train_acc.compute()}

    def _eval_step(self, batch: tuple[torch.Tensor, torch.Tensor], metrics, prefix: str) -> torch.Tensor:
        x, y = batch
        logits = self(x).float()
        # Unweighted loss: the selection criterion must not depend on the training weights.
        loss = nn.functional.cross_entropy(logits, y)
        metrics.update(logits, y)
        self.eval_loss[prefix].update(loss, len(y))
        return logits

    def validation_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, self.val_metrics, "val")

    def on_validation_epoch_end(self) -> None:
        self._log_metrics(self.val_metrics, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        logits = self._eval_step(batch, self.test_metrics, "test")
        # Softmax outputs go into the run record: ensembles, paired tests and TTA are then
        # computed from records alone. Horizontal-flip TTA = mean of the two softmaxes.
        probs = logits.softmax(1)
        if isinstance(self.model, CropAveraging) and self.model.mirror_invariant:   # its crops hold the mirror
            flipped = probs
        else:
            flipped = self(batch[0].flip(-1)).float().softmax(1)
        self.test_probs.append(probs.cpu())
        self.test_probs_flip.append(((probs + flipped) / 2).cpu())

    def predict_step(self, batch, batch_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = batch
        return self(x).float().softmax(1).cpu(), y.cpu()

    def on_test_epoch_end(self) -> None:
        self._log_metrics(self.test_metrics, "test")

    def on_train_epoch_end(self) -> None:
        m = self.epoch_train_metrics()
        if m:
            self.log_dict(m, sync_dist=True)
            if not torch.isfinite(m["train/loss"]):
                raise DivergedError(f"training diverged: train loss is {float(m['train/loss'])} "
                                    f"in epoch {self.current_epoch}")

    def _log_metrics(self, metrics, prefix: str) -> None:
        values = metrics.compute()
        self.computed = getattr(self, "computed", {})
        self.computed[prefix] = {k: v.detach().cpu() for k, v in values.items()}
        # Metric states sum over ranks at compute(): on several devices each rank scores a shard of the split
        # and every rank logs the same, exact value of the whole split.
        loss = self.eval_loss[prefix].compute()
        self.eval_loss[prefix].reset()
        self.log(f"{prefix}/loss", loss, sync_dist=True)
        self.log(f"{prefix}/acc", values["acc"], prog_bar=True, sync_dist=True)
        self.log(f"{prefix}/f1_macro", values["f1_macro"], sync_dist=True)
        metrics.reset()

    def on_validation_epoch_start(self) -> None:
        self._set_eval_view(fitting=self.trainer.state.fn == "fit")

    def on_test_epoch_start(self) -> None:
        self.test_probs, self.test_probs_flip = [], []
        self._set_eval_view(fitting=False)

    def _set_eval_view(self, fitting: bool) -> None:
        """How crop-averaging models (ten-crop) see an evaluation image. The "single" protocol scores
        the centre crop alone, like every other model's single view. Otherwise per-epoch validation may
        use fewer crops (`fit_val_crops`) to spend the time on training; the selected checkpoint is
        always scored with the model's own protocol."""
        if not isinstance(self.model, CropAveraging):
            return
        native = type(self.model).eval_crops
        if self.recipe.eval_protocol == "single":
            self.model.eval_crops = 1
        else:
            fast = self.recipe.fit_val_crops
            self.model.eval_crops = fast if fitting and fast else native

    def configure_optimizers(self):
        return build_optimizers(self.model, self.recipe, total_steps=self.trainer.estimated_stepping_batches)


def no_decay(name: str, p: nn.Parameter, exempt: set[str]) -> bool:
    """The field's convention (timm's `param_groups_weight_decay`): norms, biases, layer-scale gammas and
    every other 1-D tensor are not decayed; decaying them shrinks the scales that normalised networks
    (ConvNeXt's layer scale, BatchNorm's gamma) need to learn, with nothing gained in regularisation."""
    return p.ndim <= 1 or name.endswith(".bias") or name in exempt


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """One group per weight-decay value: none on 1-D parameters (`no_decay`) nor on what a model's own
    `no_weight_decay()` names (timm's hook: position embeddings, tokens). A model with `keras_l2`
    (name -> l) gets Keras' per-layer L2: loss + l*sum(w^2) has gradient 2*l*w, i.e. coupled decay 2*l."""
    l2 = getattr(model, "keras_l2", {})
    exempt = set(model.no_weight_decay()) if hasattr(model, "no_weight_decay") else set()
    groups: dict[float, list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        wd = 2 * l2[name] if name in l2 else 0.0 if no_decay(name, p, exempt) else weight_decay
        groups.setdefault(wd, []).append(p)
    return [{"params": ps, "weight_decay": wd} for wd, ps in groups.items()]


def build_optimizers(model: nn.Module, recipe: Recipe, total_steps: int | None = None):
    name, lr, wd = recipe.optimizer, recipe.lr, recipe.weight_decay
    params = param_groups(model, wd)
    # Fused kernels exist for SGD/Adam/AdamW on CPU (torch >= 2.4) and CUDA: the optimiser step
    # alone is 2.7-4.5x faster than foreach here (benchmarks/perf/optimizer.py); within a whole
    # VGG or ResNet50 training step the gain is inside the noise, but never a loss.
    device = next(model.parameters()).device.type
    fused = {"fused": True} if device in ("cpu", "cuda") else {}
    if name == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=recipe.momentum,
                              nesterov=recipe.nesterov, weight_decay=wd, **fused)
    elif name in ("adam", "amsgrad"):
        opt = torch.optim.Adam(params, lr=lr, weight_decay=wd, amsgrad=name == "amsgrad", **fused)
    elif name == "adamw":
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=wd, **fused)
    elif name == "rmsprop":
        opt = torch.optim.RMSprop(params, lr=lr, weight_decay=wd, momentum=recipe.momentum)
    else:
        raise ValueError(f"unknown optimizer {name!r}")
    sched = recipe.schedule
    if not sched:
        return opt
    kind = sched.name
    if kind == "exponential":
        s = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=sched.gamma)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "interval": "epoch"}}
    if kind == "plateau":
        s = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode=sched.mode or "min", factor=sched.factor, patience=sched.patience, min_lr=sched.min_lr or 0.0)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "monitor": sched.monitor, "interval": "epoch"}}
    if kind == "cosine":
        s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=recipe.epochs, eta_min=sched.min_lr or 0.0)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "interval": "epoch"}}
    if kind == "onecycle":
        # Per-step warm-up then cosine annealing to ~0 (Smith & Topin 2019): the schedule that
        # gets furthest in a fixed, short budget; momentum cycling off (SGD keeps its own).
        s = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=lr, total_steps=int(total_steps), pct_start=sched.pct_start or 0.25,
            div_factor=sched.div_factor or 25.0, final_div_factor=sched.final_div_factor or 1e4,
            cycle_momentum=False)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "interval": "step"}}
    raise ValueError(f"unknown schedule {kind!r}")
