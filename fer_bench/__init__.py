"""fer-bench: honest benchmarks of facial-expression-recognition models."""

__version__ = "0.1.0"

# The package's layers, lowest first, one sub-package each: data flows files -> cached uint8 tensors ->
# batched augmentation -> LightningModule -> run record -> aggregation -> leaderboard, and a module imports
# only from its own layer or lower ones (tests/test_layering.py checks this against the folders).
LAYERS = (
    ("core",),                            # errors, files, statistics, metrics, typed records and settings
    ("data",),                            # readers, tensor cache, faces, augmentation, the DataModule
    ("models", "recipes"),                # architectures with their cards; recipes as typed data
    ("training",),                        # one run -> one RunRecord
    ("use",),                             # kept models on other faces: load, eval, predict, export
    ("runner",),                          # suites: cells, locks, tuning, plans
    ("report",),                          # records -> leaderboards and results/README.md
    ("cli", "commands", "settings"),      # the command line (modules, not a package)
)
