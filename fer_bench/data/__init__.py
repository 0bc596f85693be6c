"""Data: FER-2013 readers, tensor cache, batched augmentation, the DataModule, reports."""
