"""tripose 2D pose: per-view keypoint networks in PyTorch (independent of the other stages)."""

__all__: list[str] = []
