"""tripose: synchronized multi-camera videos to 3D skeletons of lab animals."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tripose")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
