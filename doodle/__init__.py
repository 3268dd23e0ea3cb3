"""doodle: semantic, patch-based neural style transfer ("neural doodle").

>>> import doodle
>>> image = doodle.paint("Monet.jpg", style_map="Monet_sem.png", target_map="Coastline_sem.png")  # doctest: +SKIP
>>> doodle.save_atomic(image, "coastline.png")  # with the record of what made it  # doctest: +SKIP
"""

from .errors import DoodleError, PaintingStopped
from .images import save_atomic
from .painter import Painter, Step, paint, paint_scene
from .scene import Scene, build_scene
from .settings import PaintSettings
from .vgg import VGGFeatures, load_vgg

__all__ = [
    "DoodleError",
    "PaintSettings",
    "Painter",
    "PaintingStopped",
    "Scene",
    "Step",
    "VGGFeatures",
    "build_scene",
    "load_vgg",
    "paint",
    "paint_scene",
    "save_atomic",
]
__version__ = "0.2.0"
