"""One training run: the LightningModule, its log and scoring, kept weights, W&B, the multi-device plan."""
