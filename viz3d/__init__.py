"""tripose 3D visualization with PyVista."""

__all__: list[str] = []
